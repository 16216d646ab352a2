// Node-only surface of @duet/preprocess (uses node:* / native modules).
export * from './index.js';
export { decodeImage, ImageDecodeError, type DecodeOptions } from './decode/decode-node.js';
