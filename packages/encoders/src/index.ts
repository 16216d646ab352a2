// Public surface of @duet/encoders: CLIP / SigLIP / ResNet towers and the dual encoder (isomorphic).
export {
  DualEncoder,
  WeightsMismatchError,
  createDualEncoder,
  loadDualEncoder,
  type DualEncoderInputs,
  type DualEncoderOutput,
  type EncodeOptions,
} from './dual-encoder.js';
export { EncoderInputError } from './validate.js';
export { getPreset, listPresets } from './presets.js';
export { parameterCount, parameterSpecs, modelSettings, resolveConfig, type ParameterCount, type ModelSettings } from './settings.js';
export type { ParamSpec } from './params.js';
export { ACTIVATIONS, MASK_MIN, activation, l2Normalize, layerNorm, linear, matMul } from './ops.js';
