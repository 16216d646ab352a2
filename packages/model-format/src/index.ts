// Public surface of @duet/model-format: the one HF-compatible model folder format (isomorphic: no node:* imports).
export {
  type DType, type RawTensor, type NumericArray, DTYPE_BYTES, DTYPES, SafetensorsError, isDType, numElements, tensorByteLength,
  toTypedArray, f16ToF32, f32ToF16, bf16ToF32, f32ToBf16, fromFloat32, fromTypedArray, encodeTensor, convertTensor, convertTensors,
} from './dtype.js';
export {
  type TensorInfo, type SafetensorsHeader, type SafetensorsPlan, type WriteOptions, MAX_HEADER_BYTES,
  headerLength, parseHeader, readSafetensors, writeSafetensors, planSafetensors,
} from './safetensors.js';
export { type ByteSource, type FetchLike, type HttpSourceOptions, FetchError, memorySource, httpSource } from './byte-source.js';
export { SafetensorsReader, openSafetensorsBytes, fetchSafetensors } from './lazy-safetensors.js';
export {
  ConfigError, CLIPConfig, CLIPTextConfig, CLIPVisionConfig, SiglipConfig, SiglipTextConfig, SiglipVisionConfig,
  DuetResnetConfig, DuetFusionConfig, DuetLoss, LossFamily, type ClipConfig, type ModelConfig,
  parseModelConfig, isSiglipConfig, lossFamily, visionTower, embedDim, configToObject, configToJSON,
} from './config.js';
export {
  DUET_FORMAT_VERSION, MANIFEST_FILE, DuetManifest, DuetGolden, DuetProvenance, type DuetManifestPatch,
  parseDuetManifest, mergeManifest, sha256,
} from './manifest.js';
export { expectedTensors, checkTensorsAgainstConfig, type TensorCheck } from './expected-tensors.js';
export {
  CONFIG_FILE, WEIGHTS_FILE, WEIGHTS_INDEX_FILE, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, PREPROCESSOR_CONFIG_FILE,
  ModelFolderError, type FolderFiles, type FolderTensorInfo, type ModelFolder, checkRelPath, openModelFolder,
} from './folder.js';
export { type UrlFolderOptions, urlFolderFiles, loadModelFolder } from './url-folder.js';
export { checkModelFolder, type CheckOptions, type VerifyResult } from './check-folder.js';
