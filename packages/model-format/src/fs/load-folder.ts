// Node: model folders from the file system, tensors read lazily from model.safetensors.
import { existsSync, type Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FetchError } from '../byte-source.js';
import { ModelFolderError, checkRelPath, openModelFolder, type FolderFiles, type ModelFolder } from '../folder.js';
import { loadModelFolder as loadModelFolderUrl, type UrlFolderOptions } from '../url-folder.js';
import { SafetensorsReader } from '../lazy-safetensors.js';
import { fileSource } from './file-source.js';
import { TEMP_RE, recoverModelFolder } from './save-folder.js';

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function fsFolderFiles(dir: string): FolderFiles {
  return {
    location: dir,
    read: async (rel) => {
      const p = join(dir, checkRelPath(rel));
      try {
        const b = await readFile(p);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // a view, not a copy
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw new ModelFolderError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, rel);
      }
    },
    openSafetensors: async (rel) => {
      const p = join(dir, checkRelPath(rel));
      if (!existsSync(p)) return undefined;
      return SafetensorsReader.open(await fileSource(p));
    },
    has: (rel) => existsSync(join(dir, checkRelPath(rel))),
  };
}

/** A live save may be between its two renames (old folder aside, new not yet in): give it a moment (up to 2 s). */
async function waitForSwap(dir: string): Promise<Stats | undefined> {
  for (let i = 0; i < 40; i++) {
    const names = await readdir(dirname(dir)).catch(() => [] as string[]);
    if (!names.some((n) => TEMP_RE.exec(n)?.[1] === basename(dir) && TEMP_RE.exec(n)?.[2] === 'old')) return undefined;
    await sleep(50);
    const st = await stat(dir).catch(() => undefined);
    if (st) return st;
  }
  return undefined;
}

/** Node: loads a model folder from a directory path (or file: URL; http(s) URLs go through fetch). Tensors are read on demand. */
export async function loadModelFolder(pathOrUrl: string | URL, opts: UrlFolderOptions = {}): Promise<ModelFolder> {
  const s = pathOrUrl instanceof URL ? pathOrUrl.href : pathOrUrl;
  if (/^https?:\/\//i.test(s)) return loadModelFolderUrl(s, opts);
  const dir = resolve(s.startsWith('file:') ? fileURLToPath(s) : s);
  let st = await stat(dir).catch(() => undefined);
  if (!st) st = await waitForSwap(dir);
  if (!st) {
    // A save killed between its two renames leaves the folder under a sibling temp name: put it back.
    await recoverModelFolder(dir);
    st = await stat(dir).catch(() => undefined);
  }
  if (!st) throw new ModelFolderError(`${dir}: no such model folder`);
  if (!st.isDirectory()) throw new ModelFolderError(`${dir}: not a directory (expected a model folder with config.json and model.safetensors)`);
  try {
    return await openModelFolder(fsFolderFiles(dir));
  } catch (e) {
    if (e instanceof FetchError) throw new ModelFolderError(e.message);
    throw e;
  }
}
