// Public surface of @duet/encoders: everything other packages may import.
export {};
