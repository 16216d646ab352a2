// Public surface of @duet/web-demo: everything other packages may import.
export {};
