import type { BuiltinIndex } from './builtin.js';

// Server options and input limits (every limit is enforced with a 4xx JSON error, never a 500).
export interface Limits {
  /** JSON / multipart body size in bytes. */
  maxBodyBytes: number;
  /** Encoded size of one image in bytes. */
  maxImageBytes: number;
  /** Decoded width x height of one image (checked from the header, before decoding). */
  maxImagePixels: number;
  /** Texts per embed request. */
  maxTexts: number;
  /** Characters per text. */
  maxTextLength: number;
  /** Images per request. */
  maxImages: number;
  /** Items per add request. */
  maxItems: number;
  /** Upper bound of k in searches. */
  maxK: number;
  /** Labels per zero-shot request, and labels x templates (prompts embedded). */
  maxLabels: number;
  /** Templates per zero-shot request. */
  maxTemplates: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 16 * 2 ** 20,
  maxImageBytes: 8 * 2 ** 20,
  maxImagePixels: 40_000_000,
  maxTexts: 256,
  maxTextLength: 2048,
  maxImages: 64,
  maxItems: 1024,
  maxK: 1000,
  maxLabels: 1000,
  maxTemplates: 32,
};

export interface AppOptions {
  /** Model folder with onnx/ towers (`duet export --onnx`). */
  modelDir: string;
  /** Where collections persist (one directory per collection). */
  dataDir: string;
  /** When set, write endpoints need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** CORS: false (default, no headers), true (any origin) or allowed origin(s). */
  cors?: boolean | string | string[];
  limits?: Partial<Limits>;
  /** Requests per window per client on /v1 (false disables; default 600 per minute). */
  rateLimit?: { windowMs: number; limit: number } | false;
  /** Micro-batching of embed calls: longest wait for companions (ms, default 5) and rows per onnxruntime call (default 64). */
  batching?: { waitMs?: number; maxBatch?: number };
  /** Run the model's golden check before reporting ready (default true). */
  verify?: boolean;
  /** Built-in collections to build at start (after the model is ready), e.g. ['fashion-mnist-test']. */
  builtinIndexes?: BuiltinIndex[];
  /** Options of the built-in collections (dataset dir, limit). */
  builtin?: { dir?: string; limit?: number };
  /** Log lines (default: nothing). */
  log?: (message: string) => void;
}
