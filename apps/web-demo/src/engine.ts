// The demo's model side, free of DOM code: load a model folder by URL onto onnxruntime-web (WebGPU when the
// browser has an adapter, else wasm), embed a gallery into an exact index, search it by text or image, and
// classify an image zero-shot. Everything here is @duet/inference + @duet/preprocess; nothing is re-implemented.
import { openModelFolder, urlFolderFiles, type ModelFolder } from '@duet/model-format';
import {
  createEmbedder, loadOrtWeb, ExactIndex, ZeroShotClassifier, DEFAULT_TEMPLATES, type Embedder, type SearchHit,
} from '@duet/inference';
import type { RawImage } from '@duet/preprocess';
import type { GalleryItem } from './gallery.js';

export type Backend = 'webgpu' | 'wasm';

export interface EngineInfo {
  /** Display name: the folder's last path segment (or config `_name_or_path`). */
  modelName: string;
  modelType: string;
  lossFamily: 'clip' | 'siglip';
  dim: number;
  imageSize: number;
  backend: Backend;
  /** Why WebGPU was not used, when it was not. */
  backendNote?: string;
  loadMs: number;
}

export interface LoadOptions {
  /** Try WebGPU first when navigator.gpu offers an adapter (default true). */
  preferWebGpu?: boolean;
  /** Where onnxruntime-web finds its .wasm files (default: next to its own chunk, as bundled). */
  wasmPaths?: string;
}

export interface Ranked {
  item: GalleryItem;
  score: number;
}

export interface ClassifyResult {
  labels: { label: string; probability: number }[];
  neighbours: Ranked[];
  ms: number;
}

export class DemoError extends Error {
  override name = 'DemoError';
}

const now = (): number => globalThis.performance?.now() ?? Date.now();

function folderName(url: string, folder: ModelFolder): string {
  const named = folder.rawConfig?.['_name_or_path'];
  if (typeof named === 'string' && named) return named.split('/').filter(Boolean).pop()!;
  const path = url.replace(/[?#].*$/, '').split('/').filter(Boolean);
  return decodeURIComponent(path.pop() ?? url);
}

const TOWERS = ['onnx/text_model.onnx', 'onnx/vision_model.onnx'];

/**
 * The folder behind a URL. Over HTTP a file's existence is not knowable without a request, and the folder only
 * knows the files its duet.json lists; HEAD probes of the two ONNX towers let folders without duet.json
 * (transformers.js layout as published) load too.
 */
async function openUrlFolder(url: string): Promise<ModelFolder> {
  const files = urlFolderFiles(url);
  const base = url.endsWith('/') ? url : `${url}/`;
  const probed = new Map<string, boolean>();
  await Promise.all(TOWERS.map(async (rel) => {
    try {
      const r = await fetch(base + rel, { method: 'HEAD' });
      if (r.ok || r.status === 404 || r.status === 410) probed.set(rel, r.ok);
    } catch {
      // Unknown: the folder's own rules (duet.json) decide.
    }
  }));
  return openModelFolder({ ...files, has: (rel) => probed.get(rel) });
}

async function webGpuAdapter(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return 'this browser has no WebGPU';
  try {
    return (await gpu.requestAdapter()) ? undefined : 'no WebGPU adapter';
  } catch (e) {
    return `WebGPU adapter request failed (${(e as Error).message})`;
  }
}

export class DemoEngine {
  private index?: ExactIndex<GalleryItem>;
  private items: GalleryItem[] = [];
  private classifier?: { key: string; zs: ZeroShotClassifier };

  private constructor(readonly embedder: Embedder, readonly info: EngineInfo) {}

  /** Loads config, tokenizer, preprocessor and both ONNX towers from a model-folder URL. */
  static async load(url: string, opts: LoadOptions = {}): Promise<DemoEngine> {
    const t0 = now();
    // The runtime chunk downloads while the folder's small files are fetched.
    const ortReady = loadOrtWeb();
    ortReady.catch(() => undefined); // observed below; avoids an unhandled rejection when the folder fails first
    let folder: ModelFolder;
    try {
      folder = await openUrlFolder(url);
    } catch (e) {
      throw new DemoError(`${url} is not a usable model folder: ${(e as Error).message}`);
    }
    const ort = (await ortReady) as unknown as { env: { wasm: { wasmPaths?: unknown } } };
    if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
    const make = (eps: string[]): Promise<Embedder> => createEmbedder(folder, { sessionOptions: { executionProviders: eps, graphOptimizationLevel: 'all' } });
    let backend: Backend = 'wasm';
    let backendNote = opts.preferWebGpu === false ? 'WebGPU not requested' : await webGpuAdapter();
    let embedder: Embedder | undefined;
    try {
      if (!backendNote) {
        try {
          embedder = await make(['webgpu']);
          // Some kernels fail only when run: one tiny forward through each tower before committing to WebGPU.
          const v = folder.config.vision_config;
          await embedder.embedTexts(['a photo']);
          await embedder.embedPixels({ pixelValues: new Float32Array(v.num_channels * v.image_size ** 2), shape: [1, v.num_channels, v.image_size, v.image_size] });
          backend = 'webgpu';
        } catch (e) {
          void embedder?.dispose();
          embedder = undefined;
          backendNote = `WebGPU failed (${(e as Error).message}); using wasm`;
        }
      }
      embedder ??= await make(['wasm']);
    } catch (e) {
      throw new DemoError(`${url}: the model could not be loaded: ${(e as Error).message}`);
    }
    const cfg = folder.config;
    const info: EngineInfo = {
      modelName: folderName(url, folder), modelType: cfg.model_type, lossFamily: embedder.lossFamily, dim: embedder.dim,
      imageSize: cfg.vision_config.image_size, backend, loadMs: now() - t0,
    };
    if (backendNote) info.backendNote = backendNote;
    return new DemoEngine(embedder, info);
  }

  get gallerySize(): number {
    return this.items.length;
  }

  /** Embeds the gallery (replacing the previous one) in batches, reporting progress; returns the time taken. */
  async setGallery(items: GalleryItem[], onProgress?: (done: number, total: number) => void): Promise<{ ms: number }> {
    if (items.length === 0) throw new DemoError('gallery: no images to embed');
    const t0 = now();
    const index = new ExactIndex<GalleryItem>(this.embedder.dim);
    const batch = 64;
    for (let s = 0; s < items.length; s += batch) {
      const chunk = items.slice(s, s + batch);
      const { data } = await this.embedder.embedImages(chunk.map((it) => it.image));
      index.add(chunk.map((it) => it.id), data, chunk);
      onProgress?.(Math.min(s + batch, items.length), items.length);
    }
    this.index = index;
    this.items = items;
    return { ms: now() - t0 };
  }

  private ranked(hits: SearchHit<GalleryItem>[]): Ranked[] {
    return hits.map((h) => ({ item: h.metadata!, score: h.score }));
  }

  private requireIndex(): ExactIndex<GalleryItem> {
    if (!this.index) throw new DemoError('the gallery is not embedded yet');
    return this.index;
  }

  /** Text -> the k most similar gallery images (cosine). */
  async searchText(query: string, k: number): Promise<{ results: Ranked[]; ms: number }> {
    const text = query.trim();
    if (!text) throw new DemoError('type a description to search for');
    const index = this.requireIndex();
    const t0 = now();
    const { data } = await this.embedder.embedTexts([text]);
    const [hits] = await index.search(data, Math.min(k, index.size));
    return { results: this.ranked(hits!), ms: now() - t0 };
  }

  /** Image -> zero-shot probabilities over `labels` (model's loss family) + nearest gallery images. */
  async classify(image: RawImage, labels: string[], opts: { templates?: string[]; k?: number } = {}): Promise<ClassifyResult> {
    const clean = [...new Set(labels.map((l) => l.trim()).filter(Boolean))];
    if (clean.length === 0) throw new DemoError('labels: enter at least one label');
    const templates = opts.templates?.map((t) => t.trim()).filter(Boolean);
    const tpl = templates?.length ? templates : (DEFAULT_TEMPLATES as string[]);
    const t0 = now();
    const key = JSON.stringify([clean, tpl]);
    if (this.classifier?.key !== key) this.classifier = { key, zs: await ZeroShotClassifier.create(this.embedder, clean, { templates: tpl }) };
    const { data } = await this.embedder.embedImages([image]);
    const [c] = this.classifier.zs.classifyEmbeds(data);
    let neighbours: Ranked[] = [];
    if (this.index) {
      const [hits] = await this.index.search(data, Math.min(opts.k ?? 8, this.index.size));
      neighbours = this.ranked(hits!);
    }
    return { labels: c!.ranked.map((r) => ({ label: r.label, probability: r.probability })), neighbours, ms: now() - t0 };
  }

  async dispose(): Promise<void> {
    await this.embedder.dispose();
  }
}
