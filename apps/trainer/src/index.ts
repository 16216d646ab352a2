// Public surface of @duet/trainer: everything other packages may import.
export {};
