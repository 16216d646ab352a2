// Node-only surface of @duet/model-format (uses node:* / native modules).
export * from './index.js';
