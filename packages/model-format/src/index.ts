// Public surface of @duet/model-format: everything other packages may import.
export {};
