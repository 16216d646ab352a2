// Node-only surface of @duet/web-demo: build the page with Vite on demand and serve it with a model folder.
export * from './index.js';
export { buildDemo, isBuilt, sourceFingerprint, DEFAULT_DIST, APP_DIR } from './build.js';
export { startDemoServer, modelSlug, type DemoServerOptions, type DemoGalleryInput, type RunningDemo } from './server.js';
