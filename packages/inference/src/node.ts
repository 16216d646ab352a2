// Node-only surface of @duet/inference: onnxruntime-node, usearch, file-system export and persistence.
export * from './index.js';
export { ortNodeModule } from './node/ort-node.js';
export { exportOnnx, type ExportOnnxOptions, type ExportOnnxResult } from './node/export-onnx.js';
export { createEmbedder, goldenCheck, type CreateEmbedderOptions } from './node/create.js';
export { HnswIndex, type HnswOptions } from './node/hnsw-index.js';
export { Collection, type CollectionOptions } from './node/collection.js';
export { createOrtScoreKernel } from './node/ort-score-kernel.js';
export { decodeImages } from './node/images.js';
export { Int8ExactSearch, safeQueryMax, type Int8ExactOptions } from './node/int8-exact-search.js';
export { loadScanNative, scanNativeUnavailableReason, type ScanIsa } from './node/scan-native.js';
