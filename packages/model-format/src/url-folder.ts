// Model folders behind a base URL (browser, or any fetch): small files fetched whole, model.safetensors read with
// HTTP Range requests when the server supports them.
import { FetchError, httpSource, type FetchLike } from './byte-source.js';
import { checkRelPath, openModelFolder, type FolderFiles, type ModelFolder } from './folder.js';
import { SafetensorsReader } from './lazy-safetensors.js';

export interface UrlFolderOptions {
  fetch?: FetchLike;
  headers?: Record<string, string>;
  /** How to read model.safetensors: Range requests when supported ('auto', default), or one download ('whole'). */
  mode?: 'auto' | 'range' | 'whole';
}

/** Folder files behind a base URL. A 404 means "absent"; other HTTP errors are raised. */
export function urlFolderFiles(baseUrl: string, opts: UrlFolderOptions = {}): FolderFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const f = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (!f) throw new FetchError('no fetch implementation available (pass options.fetch)');
  const headers = opts.headers ?? {};
  const absent = (s: number): boolean => s === 404 || s === 410;
  return {
    location: baseUrl,
    read: async (rel) => {
      const url = base + checkRelPath(rel);
      let r: Response;
      try {
        r = await f(url, { headers });
      } catch (e) {
        throw new FetchError(`${url}: request failed (${(e as Error).message})`);
      }
      if (absent(r.status)) return undefined;
      if (!r.ok) throw new FetchError(`${url}: HTTP ${r.status}`, r.status);
      return new Uint8Array(await r.arrayBuffer());
    },
    openSafetensors: async (rel) => {
      const url = base + checkRelPath(rel);
      try {
        return await SafetensorsReader.open(await httpSource(url, { mode: opts.mode, fetch: f, headers }));
      } catch (e) {
        if (e instanceof FetchError && e.status !== undefined && absent(e.status)) return undefined;
        throw e;
      }
    },
  };
}

/** Isomorphic: loads a model folder from a base URL with fetch (tensors fetched on demand with HTTP Range when possible). */
export function loadModelFolder(url: string, opts: UrlFolderOptions = {}): Promise<ModelFolder> {
  return openModelFolder(urlFolderFiles(url, opts));
}
