// Public surface of @duet/losses: everything other packages may import.
export {};
