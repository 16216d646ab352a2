// Node-only surface of @duet/inference (uses node:* / native modules).
export * from './index.js';
