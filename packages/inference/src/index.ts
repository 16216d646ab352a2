// Public surface of @duet/inference: everything other packages may import.
export {};
