// Public surface of @duet/model-format: the one HF-compatible model folder format.
export {
  type DType, type TensorInfo, type SafetensorsHeader, type RawTensor,
  DTYPE_BYTES, SafetensorsError, parseHeader, readSafetensors, writeSafetensors, toTypedArray, f16ToF32, fromFloat32,
} from './safetensors.js';
