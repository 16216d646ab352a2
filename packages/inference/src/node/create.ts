// Node entry points: load a folder by path (or URL) and run it on onnxruntime-node (default) or onnxruntime-web.
import type { ModelFolder } from '@duet/model-format';
import { loadModelFolder } from '@duet/model-format/node';
import { createEmbedderFromFolder, type Embedder, type EmbedderOptions } from '../runtime/embedder.js';
import { goldenCheckFolder, type GoldenCheckResult } from '../runtime/golden.js';
import type { OnnxDtype, OrtModuleLike } from '../runtime/ort-types.js';
import { loadOrtWeb } from '../runtime/ort-web.js';
import { ortNodeModule } from './ort-node.js';

export interface CreateEmbedderOptions extends EmbedderOptions {
  /** 'node' (onnxruntime-node, default) or 'web' (onnxruntime-web's wasm build). */
  engine?: 'node' | 'web';
  /** Run the golden check before returning (default false). */
  verify?: boolean;
}

async function engineModule(engine: 'node' | 'web' = 'node'): Promise<OrtModuleLike> {
  return engine === 'web' ? loadOrtWeb() : ortNodeModule;
}

async function asFolder(f: string | URL | ModelFolder): Promise<ModelFolder> {
  return typeof f === 'string' || f instanceof URL ? loadModelFolder(f) : f;
}

export async function createEmbedder(folderOrPath: string | URL | ModelFolder, opts: CreateEmbedderOptions = {}): Promise<Embedder> {
  const folder = await asFolder(folderOrPath);
  const ort = await engineModule(opts.engine);
  if (opts.verify) await goldenCheckFolder(ort, folder, { dtype: opts.dtype });
  return createEmbedderFromFolder(ort, folder, opts);
}

/** Golden self-check of a folder (path, URL or loaded); throws GoldenCheckError on a corrupted/mismatched model. */
export async function goldenCheck(folderOrPath: string | URL | ModelFolder, opts: { dtype?: OnnxDtype; engine?: 'node' | 'web'; rtol?: number } = {}): Promise<GoldenCheckResult> {
  return goldenCheckFolder(await engineModule(opts.engine), await asFolder(folderOrPath), opts);
}
