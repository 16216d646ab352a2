// sha256 of files (streamed, so large weights never load whole) and of every file in a folder.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../manifest.js';

export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Relative POSIX paths of all regular files under `dir` (skipping dot-files, e.g. in-flight temp files). */
export async function listFolderFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/** sha256 of every artifact in the folder (duet.json itself excluded). */
export async function hashFolderFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const rel of await listFolderFiles(dir)) {
    if (rel !== MANIFEST_FILE) files[rel] = await hashFile(join(dir, rel));
  }
  return files;
}
