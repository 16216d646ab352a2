// Public surface of @duet/runtime: everything other packages may import.
export {};
