// VQA training (`duet train --task vqa`): config, data, the head trainer and the run with its report.
export { VqaTrainConfigSchema, getVqaRecipe, listVqaRecipes, resolveVqaConfig, type VqaTrainConfig, type VqaTrainConfigInput } from './config.js';
export { loadVqaSet, vqaAccuracy, type VqaAccuracy, type VqaExample, type VqaSet } from './data.js';
export { FeatureCache, predictSet, trainVqaHead, weightedExamples, type HeadHooks, type HeadProgress, type HeadResult } from './train-head.js';
export { resultsTable, trainVqa, type VqaHeadSummary, type VqaResults, type VqaRunHooks, type VqaRunResult } from './run.js';
