// Node-only surface of @duet/model-format (file system).
export * from './index.js';
