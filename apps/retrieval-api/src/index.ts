// Public surface of @duet/retrieval-api: everything other packages may import.
export {};
