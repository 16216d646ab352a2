// The shape of an evaluation result (written to eval.json and metrics.jsonl).
import type { ZeroShotResult } from './zero-shot-metrics.js';
import type { RetrievalMetrics } from './retrieval-metrics.js';

export interface EvalSummary {
  dataset: string;
  samples: number;
  zeroShot?: Omit<ZeroShotResult, 'predictions'> & { classes: string[]; templates: number };
  retrieval?: RetrievalMetrics & { samples: number };
  seconds: number;
}
