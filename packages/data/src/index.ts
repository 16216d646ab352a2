// Public surface of @duet/data: everything other packages may import.
export {};
