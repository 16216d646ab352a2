// Node-only surface of @duet/runtime (uses node:* / native modules).
export * from './index.js';
