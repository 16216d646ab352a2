// Public surface of @duet/training: the training loop, its optimizer/schedules, checkpoints, metrics and evaluation.
export { AdamW, noDecay, type AdamWOptions } from './optim/adamw.js';
export { clipByGlobalNorm, clipCoefficient, globalNorm } from './optim/clip-grad.js';
export { storageView, hostBackend, gradientValues, disposeGradients, type Gradient } from './optim/storage.js';
export { makeSchedule, type Schedule, type ScheduleName, type ScheduleOptions } from './optim/schedule.js';
export {
  retrievalMetrics, retrievalMetricsFromScores, rankOf, type RetrievalMetrics, type DirectionMetrics,
} from './eval/retrieval-metrics.js';
export { ensembleClassEmbeds, zeroShotAccuracy, type ZeroShotResult } from './eval/zero-shot-metrics.js';
export { MetricsLog, readMetrics, type MetricsRecord } from './io/metrics-log.js';
export { curvesSvg, svgToPng } from './io/plot.js';
export { ProgressReporter, fmtDur, type ProgressInfo, type ProgressOptions } from './io/progress.js';
export {
  CheckpointManager, NonFiniteStateError, resolveCheckpoint, TRAINER_STATE_DIR, type TrainerState, type CheckpointPayload,
  type LoadedCheckpoint,
} from './io/checkpoints.js';
export { writeFileAtomic } from './io/atomic.js';
export { TrainConfigSchema, resolveConfig, getRecipe, listRecipes, type TrainConfig, type TrainConfigInput } from './config.js';
export { computeGradients, trainableByName, type StepResult } from './step.js';
export type { TrainableDualEncoder, TensorBatch, LossFamily } from './model.js';
export {
  runTraining, toMicroBatches, flattenEval, NonFiniteLossError, type LoopSession, type LoaderBatch, type BatchSource, type TrainHooks,
  type TrainProgress, type TrainResult,
} from './loop.js';
export type { EvalSummary } from './eval/summary.js';
export { train, trainRank, prepareTraining, checkResumeCompatible, type RankOptions } from './train.js';
export { trainThreads, rankHeapLimits } from './distributed/threads.js';
export {
  createDataParallel, checkResumeWorld, isRankPositions, type DataParallel, type DataParallelOptions, type RankPositions,
} from './distributed/data-parallel.js';
export { ddpGradients, type DdpStepOptions, type DdpStepResult } from './distributed/ddp-step.js';
export { allReduceSum, allReduceSumValues, broadcastVariables, planBuckets, DEFAULT_BUCKET_BYTES } from './distributed/buckets.js';
export { recordForward, deferredBackwardSupported, type RecordedForward } from './distributed/deferred-backward.js';
export { evaluate, embedTexts, type EvalOptions } from './evaluate.js';
export { StepProfiler, stepProfiler, profilingEnabled, meanPhases, PROFILE_PHASES, type ProfilePhase, type ProfileFile } from './profile.js';
export {
  openDataset, openModel, buildSession, saveModel, presetModelConfig, textUsesAttentionMask, type Session, type OpenDataset, type SessionShard,
} from './session.js';
export * from './vqa/index.js';
