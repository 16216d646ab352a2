// Public surface of @duet/preprocess: everything other packages may import.
export {};
