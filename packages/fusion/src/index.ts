// Public surface of @duet/fusion: cross-attention intermediate fusion over the towers' tokens, a late-fusion
// baseline, the VQA head and loss, saving/loading inside the shared model folder (isomorphic).
export {
  FUSION_CONFIG_KEY, FUSION_PREFIX, FUSION_TYPES, FusionConfigError, FusionConfigSchema, hasFusionHead, parseFusionConfig,
  type FusionConfig, type FusionConfigInput, type FusionType,
} from './config.js';
export { fusionParamSpecs, type FusionParamSpec, type TowerDims } from './params.js';
export { additiveKeyMask, multiHeadAttention } from './attention.js';
export {
  FusionHead, FusionWeightsError, type BlockAttention, type FusionOutput, type PooledInputs, type TokenInputs,
} from './fusion-head.js';
export { FREEZE_TOWERS, VqaModel, loadVqaModel, towerDims, type FreezeTowers, type TowerFeatures, type VqaInputs, type VqaModelOptions, type VqaPrediction } from './vqa-model.js';
export { argmaxRows, buildAnswerVocab, vqaLoss } from './loss.js';
export { attentionFigureSvg, type AttentionFigureExample } from './attention-svg.js';
