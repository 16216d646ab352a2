// Everything a run is built from: the model (preset, folder, or checkpoint), its tokenizer and image processor,
// datasets and loaders, and writing the model folder. The only place that knows the other packages' APIs.
import { existsSync } from 'node:fs';
import { loadModelFolder, saveModelFolder } from '@duet/model-format/node';
import { parseModelConfig, isSiglipConfig, type ModelConfig } from '@duet/model-format';
import { TextTokenizer, ImageProcessor, presetTokenizer, defaultPreprocessorConfig } from '@duet/preprocess';
import { createDualEncoder, getPreset, loadDualEncoder, type DualEncoder } from '@duet/encoders';
import { fashionMnist, shapesDataset, openDataset as openDataDataset, createLoader, type Dataset, type LoaderPosition } from '@duet/data';
import type { TrainConfig } from './config.js';
import type { LoopSession } from './loop.js';
import { evaluate } from './evaluate.js';

export interface Session extends LoopSession {
  model: DualEncoder;
  modelConfig: ModelConfig;
  tokenizer: TextTokenizer;
  imageProcessor: ImageProcessor;
  tokenizerJson: unknown;
  tokenizerConfig: unknown;
  preprocessorConfig: Record<string, unknown>;
}

export interface OpenDataset {
  name: string;
  /** Records (Infinity when the format does not say without a scan, e.g. WebDataset: give --steps). */
  size: number;
  dataset: Dataset;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
      ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** The model config a fresh run would build (preset + overrides + loss), validated without touching tensors. */
export function presetModelConfig(config: TrainConfig): Record<string, unknown> {
  const preset = getPreset(config.preset) as Record<string, unknown>; // throws a clear error for unknown presets
  const merged = deepMerge(preset, config.modelOverrides);
  if (config.loss) merged['duet_loss'] = config.loss;
  return merged;
}

/** One rank's slice of a data-parallel run: its loader reads every worldSize-th sample (batchSize / worldSize each). */
export interface SessionShard {
  rank: number;
  worldSize: number;
  /** Decode/preprocess threads of this rank's loader (default: the loader's own; 0 when ranks already fill the cores). */
  loaderWorkers?: number;
}

export async function buildSession(
  config: TrainConfig, data: OpenDataset, resumeDir?: string, log: (m: string) => void = (m) => process.stderr.write(m + '\n'),
  shard: SessionShard = { rank: 0, worldSize: 1 },
): Promise<Session> {
  const { rank, worldSize } = shard; // train() checked that batchSize divides by worldSize·accum
  const source = resumeDir ?? config.model;
  let model: DualEncoder;
  let tokenizerJson: unknown, tokenizerConfig: unknown, preprocessorConfig: Record<string, unknown>;
  if (source) {
    const folder = await loadModelFolder(source);
    model = await loadDualEncoder(folder);
    tokenizerJson = folder.tokenizerJson;
    tokenizerConfig = folder.tokenizerConfig;
    // A HF folder may lack preprocessor_config.json: use the family's default processor at the model's resolution.
    preprocessorConfig = (folder.preprocessorConfig ?? defaultPreprocessorConfig(model.lossFamily, model.config.vision_config.image_size)) as Record<string, unknown>;
    if (!tokenizerJson) throw new Error(`${source}: model folder has no tokenizer.json`);
  } else {
    const modelConfig = parseModelConfig(presetModelConfig(config));
    model = createDualEncoder(modelConfig, { seed: config.seed });
    const family = model.lossFamily;
    ({ tokenizerJson, tokenizerConfig } = presetTokenizer(family));
    preprocessorConfig = defaultPreprocessorConfig(family, modelConfig.vision_config.image_size) as Record<string, unknown>;
  }
  if (config.lockImage) model.freeze('vision');
  if (config.lockText) model.freeze('text');
  const tokenizer = TextTokenizer.fromJSON(tokenizerJson as never, tokenizerConfig as never, { modelConfig: model.config });
  const imageProcessor = ImageProcessor.fromConfig(preprocessorConfig as never);
  const session: Session = {
    model,
    modelConfig: model.config,
    textUsesAttentionMask: textUsesAttentionMask(model.config, tokenizerConfig as Record<string, unknown> | undefined),
    label: config.model ?? config.preset,
    datasetSize: data.size,
    tokenizer,
    imageProcessor,
    tokenizerJson,
    tokenizerConfig,
    preprocessorConfig,
    makeLoader: (epoch, resumeFrom) => {
      // One loader per epoch, started at that epoch's own shuffle (or at the saved position when resuming).
      const start: LoaderPosition = (resumeFrom as LoaderPosition | undefined) ?? {
        version: 1, seed: config.seed, rank, worldSize, batchInEpoch: 0, stream: { epoch, start: true },
      };
      const loader = createLoader(data.dataset, {
        batchSize: config.batchSize / worldSize, seed: config.seed, epochs: epoch + 1, drop_last: true, imageProcessor, preprocessorConfig, tokenizer,
        augment: config.augment, resumeFrom: start, rank, worldSize, ...(shard.loaderWorkers !== undefined ? { workers: shard.loaderWorkers } : {}),
      });
      return { [Symbol.asyncIterator]: () => loader[Symbol.asyncIterator](), position: () => loader.position(), close: () => loader.close() };
    },
    saveModel: (dir, info) => saveModel(session, dir, { ...info, config }),
  };
  if (config.evalData !== 'none') {
    session.evaluate = (o) => {
      // Mid-run evaluations look at 1000 samples (or evalLimit if smaller) to stay cheap next to training.
      const limit = o?.periodic ? (config.evalLimit > 0 ? Math.min(config.evalLimit, 1000) : 1000) : config.evalLimit;
      return evaluate(model, session, { ...config, evalLimit: limit }, { log });
    };
  }
  return session;
}

/**
 * Open a dataset spec (as @duet/data's openDataset: 'fashion-mnist', 'shapes[:seed=..,size=..]', a .csv/.tsv/.jsonl
 * table, WebDataset .tar shards or pattern, an image folder), failing before any work if it does not exist.
 * Built-in sets pick the split: Fashion-MNIST train/test; shapes with a different seed for the test split.
 */
export async function openDataset(spec: string, split: 'train' | 'test', config: { seed: number; limit?: number }): Promise<OpenDataset> {
  const limit = config.limit && config.limit > 0 ? config.limit : undefined;
  let dataset: Dataset;
  if (spec === 'fashion-mnist') dataset = fashionMnist({ split, seed: config.seed, ...(limit ? { limit } : {}) });
  else if (spec === 'shapes') dataset = shapesDataset({ seed: config.seed + (split === 'test' ? 7919 : 0), size: limit ?? (split === 'test' ? 1000 : 10000) });
  else {
    const local = !/^(fashion-mnist|shapes):/.test(spec) && !spec.includes('{') && !spec.includes('::');
    if (local && !existsSync(spec)) throw new Error(`data ${spec}: no such file or directory (expected 'fashion-mnist', 'shapes', a .csv/.tsv/.jsonl table, WebDataset .tar shards or an image folder)`);
    dataset = openDataDataset(spec);
  }
  await dataset.shardCount(); // reads indexes/tables now: a missing or malformed file fails here, before training starts
  const known = dataset.knownSize?.();
  const size = known === undefined ? Infinity : limit ? Math.min(limit, known) : known;
  return { name: spec, size, dataset };
}

export async function saveModel(
  s: Pick<Session, 'model' | 'tokenizerJson' | 'tokenizerConfig' | 'preprocessorConfig'>,
  dir: string,
  info: { step: number; config: TrainConfig; eval?: unknown; extraFiles?: Record<string, Uint8Array | string> },
): Promise<void> {
  await saveModelFolder(dir, {
    config: s.model.config as never,
    tensors: s.model.toTensors(),
    tokenizerJson: s.tokenizerJson as Record<string, unknown>,
    ...(s.tokenizerConfig ? { tokenizerConfig: s.tokenizerConfig as Record<string, unknown> } : {}),
    preprocessorConfig: s.preprocessorConfig,
    ...(info.extraFiles ? { extraFiles: info.extraFiles } : {}),
    duet: {
      provenance: {
        tool: 'duet train', created_at: new Date().toISOString(), step: info.step,
        config: { ...info.config, resume: undefined, stopAfter: undefined } as Record<string, unknown>,
        ...(info.config.model ? { parent: info.config.model } : {}),
        ...(info.eval ? { eval: info.eval } : {}),
      },
    },
  });
}

/**
 * A model folder (or checkpoint) opened for evaluation/embedding: the model plus its own tokenizer and image
 * processor. Those two are built on first use, so a folder without tokenizer files can still embed pre-tokenized
 * tensors; using a missing one is a clear error.
 */
export async function openModel(dir: string): Promise<Session> {
  if (!existsSync(dir)) throw new Error(`--model ${dir}: no such directory`);
  const folder = await loadModelFolder(dir);
  const model = await loadDualEncoder(folder);
  const preprocessorConfig = (folder.preprocessorConfig ?? defaultPreprocessorConfig(model.lossFamily, model.config.vision_config.image_size)) as Record<string, unknown>;
  let tokenizer: TextTokenizer | undefined, imageProcessor: ImageProcessor | undefined;
  const session = {
    model, modelConfig: model.config, label: dir, datasetSize: 0,
    textUsesAttentionMask: textUsesAttentionMask(model.config, folder.tokenizerConfig),
    tokenizerJson: folder.tokenizerJson, tokenizerConfig: folder.tokenizerConfig, preprocessorConfig,
    makeLoader: () => { throw new Error('openModel: no training loader'); },
    saveModel: () => Promise.reject(new Error('openModel: read-only session')),
  } as unknown as Session;
  Object.defineProperty(session, 'tokenizer', {
    get: () => {
      if (!folder.tokenizerJson) throw new Error(`${dir}: the model folder has no tokenizer.json, so it cannot tokenize text (pass pre-tokenized input_ids instead)`);
      return (tokenizer ??= TextTokenizer.fromJSON(folder.tokenizerJson as never, folder.tokenizerConfig as never, { modelConfig: model.config }));
    },
  });
  Object.defineProperty(session, 'imageProcessor', { get: () => (imageProcessor ??= ImageProcessor.fromConfig(preprocessorConfig as never)) });
  return session;
}

/**
 * Whether the text tower sees the tokenizer's attention mask: tokenizer_config's model_input_names decides when
 * present (HF's SiglipTokenizer lists only input_ids); otherwise SigLIP text towers, which pool the last position of
 * max_length-padded input, run without a mask as in HF. The same rule as @duet/inference, so a model is trained,
 * evaluated and served alike.
 */
export function textUsesAttentionMask(config: ModelConfig, tokenizerConfig?: Record<string, unknown>): boolean {
  const names = tokenizerConfig?.['model_input_names'];
  if (Array.isArray(names)) return names.includes('attention_mask');
  return !isSiglipConfig(config);
}
