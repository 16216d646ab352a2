// Public surface of @duet/distributed: everything other packages may import.
export {};
