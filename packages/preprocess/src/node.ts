// Node-only surface of @duet/preprocess (uses node:* / native modules).
export * from './index.js';
