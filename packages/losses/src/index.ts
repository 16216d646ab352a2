// Public surface of @duet/losses: everything other packages may import.
export type { LossFamily, ScalarLike, ContrastiveInputs, LossOptions, FeatureGrads, DistributedResult } from './types.js';
export { clipLoss } from './clip-loss.js';
export { siglipLoss } from './siglip-loss.js';
export { lossAndFeatureGrads } from './feature-grads.js';
export { clampLogitScale, LOGIT_INIT } from './logit-scale.js';
export { DEFAULT_MEMORY_LIMIT_BYTES, LossMemoryError, estimateLossPeakBytes, type LossForm } from './memory-guard.js';
export type { ProcessGroup, ReduceOp } from './process-group.js';
export { createSimulatedGroups } from './simulated-group.js';
export { distributedClipLoss, type DistributedOptions } from './distributed-clip.js';
export { distributedSiglipLoss, type DistributedSiglipOptions } from './distributed-siglip.js';
export { clipCommBytes, siglipCommBytes, type CommCostInput } from './comm-cost.js';
