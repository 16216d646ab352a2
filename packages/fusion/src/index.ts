// Public surface of @duet/fusion: everything other packages may import.
export {};
