// Public surface of @duet/web-demo (browser/isomorphic): the demo's model engine and gallery format.
// The page itself is src/main.ts (Vite entry); the Node server that hosts it is in ./node.ts.
export { DemoEngine, DemoError, type Backend, type EngineInfo, type LoadOptions, type Ranked, type ClassifyResult } from './engine.js';
export { encodeGallery, decodeGallery, parseGalleryHeader, GalleryError, type GalleryHeader, type GalleryItem } from './gallery.js';
