// Node: checks a saved folder end to end: it loads, its tensors match its config, every artifact matches duet.json
// (hashes streamed from disk), and no unlisted files hide in it.
import { join, resolve } from 'node:path';
import { checkModelFolder, type VerifyResult } from '../check-folder.js';
import { openModelFolder } from '../folder.js';
import { MANIFEST_FILE } from '../manifest.js';
import { hashFile, listFolderFiles } from './hash.js';
import { fsFolderFiles } from './load-folder.js';

export type { VerifyResult };

export async function verifyFolder(dirIn: string): Promise<VerifyResult> {
  const dir = resolve(dirIn);
  let folder;
  try {
    folder = await openModelFolder(fsFolderFiles(dir));
  } catch (e) {
    return { ok: false, errors: [(e as Error).message], warnings: [] };
  }
  const present = new Set(await listFolderFiles(dir));
  const result = await checkModelFolder(folder, { hashOf: async (rel) => (present.has(rel) ? hashFile(join(dir, rel)) : undefined) });
  if (folder.duet) {
    for (const rel of present) if (rel !== MANIFEST_FILE && !(rel in folder.duet.files)) result.warnings.push(`${rel}: not listed in ${MANIFEST_FILE}`);
  }
  return result;
}
