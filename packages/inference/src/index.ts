// Public surface of @duet/inference (isomorphic): ONNX graph building, the embedder over any onnxruntime,
// zero-shot classification and exact retrieval. Node-only pieces (onnxruntime-node, usearch, files) are in ./node.ts.
export { GraphBuilder, OPSET, type WeightFormat } from './export/graph-builder.js';
export { buildTextModel } from './export/text-model.js';
export { buildVisionModel } from './export/vision-model.js';
export { Weights, ExportError } from './export/weights.js';
export { type OrtModuleLike, type OrtSessionLike, type OrtTensorLike, type OnnxDtype, ONNX_SUFFIX, onnxFile } from './runtime/ort-types.js';
export { InferenceError, MissingOnnxError, GoldenCheckError } from './runtime/errors.js';
export { l2NormalizeRows } from './runtime/normalize.js';
export { type TokenBatch, type PixelInput, runText, runVision, openTowerSession } from './runtime/tower-session.js';
export {
  type Embedder, type Embeddings, type EmbedOptions, type EmbedderOptions, createEmbedderFromFolder, textUsesAttentionMask,
} from './runtime/embedder.js';
export { loadOrtWeb } from './runtime/ort-web.js';
export {
  GOLDEN_INPUTS_FILE, GOLDEN_RTOL, type GoldenInputs, type GoldenRecord, type GoldenCheckResult,
  makeGoldenInputs, runGolden, goldenCheckFolder,
} from './runtime/golden.js';
export { createEmbedder, goldenCheck, type CreateEmbedderOptions } from './runtime/create-web.js';
export { ExactIndex, checkK, type SearchHit, type IndexOptions } from './retrieval/exact-index.js';
export { jsScoreKernel, type ScoreKernel } from './retrieval/score-kernel.js';
export { TopK } from './retrieval/topk.js';
export { type SearchableIndex, indexImages, indexTexts, searchByText, searchByImage } from './retrieval/cross-modal.js';
export {
  ZeroShotClassifier, DEFAULT_TEMPLATES, PROBABILITIES, applyTemplate, type Template, type ZeroShotEmbedder, type Classification,
} from './zero-shot/zero-shot.js';
