// Isomorphic entry: load a folder by URL (fetch) and run it on onnxruntime-web.
import { loadModelFolder, type ModelFolder } from '@duet/model-format';
import { createEmbedderFromFolder, type Embedder, type EmbedderOptions } from './embedder.js';
import { goldenCheckFolder, type GoldenCheckResult } from './golden.js';
import type { OnnxDtype } from './ort-types.js';
import { loadOrtWeb } from './ort-web.js';

export interface CreateEmbedderOptions extends EmbedderOptions {
  /** Only 'web' in the isomorphic entry; onnxruntime-node is in '@duet/inference/node'. */
  engine?: 'web';
  verify?: boolean;
}

async function asFolder(f: string | URL | ModelFolder): Promise<ModelFolder> {
  return typeof f === 'string' || f instanceof URL ? loadModelFolder(String(f)) : f;
}

export async function createEmbedder(folderOrUrl: string | URL | ModelFolder, opts: CreateEmbedderOptions = {}): Promise<Embedder> {
  if (opts.engine && opts.engine !== 'web') throw new TypeError(`engine: "${String(opts.engine)}" needs the Node entry (@duet/inference/node); this entry supports 'web'`);
  const folder = await asFolder(folderOrUrl);
  const ort = await loadOrtWeb();
  if (opts.verify) await goldenCheckFolder(ort, folder, { dtype: opts.dtype });
  return createEmbedderFromFolder(ort, folder, opts);
}

export async function goldenCheck(folderOrUrl: string | URL | ModelFolder, opts: { dtype?: OnnxDtype; rtol?: number } = {}): Promise<GoldenCheckResult> {
  return goldenCheckFolder(await loadOrtWeb(), await asFolder(folderOrUrl), opts);
}
