// Node-only surface of @duet/encoders (uses node:* / native modules).
export * from './index.js';
