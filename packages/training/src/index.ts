// Public surface of @duet/training: everything other packages may import.
export {};
