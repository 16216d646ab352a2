// Node: checks a saved folder end to end: it loads, its tensors match its config, and every artifact matches duet.json.
import { join, resolve } from 'node:path';
import { lossFamily } from '../config.js';
import { checkTensorsAgainstConfig } from '../expected-tensors.js';
import { MANIFEST_FILE } from '../manifest.js';
import { hashFile, listFolderFiles } from './hash.js';
import { fsFolderFiles } from './load-folder.js';
import { openModelFolder } from '../folder.js';

export interface VerifyResult {
  ok: boolean;
  errors: string[];
  warnings: string[];
}

export async function verifyFolder(dirIn: string): Promise<VerifyResult> {
  const dir = resolve(dirIn);
  const errors: string[] = [];
  const warnings: string[] = [];
  let folder;
  try {
    folder = await openModelFolder(fsFolderFiles(dir));
  } catch (e) {
    return { ok: false, errors: [(e as Error).message], warnings };
  }
  const check = checkTensorsAgainstConfig(folder.config, new Map(folder.tensorNames().map((n) => [n, folder.tensorInfo(n).shape])));
  errors.push(...check.errors);
  warnings.push(...check.warnings);
  const m = folder.duet;
  if (!m) {
    warnings.push(`${MANIFEST_FILE} missing: artifact hashes not checked`);
  } else {
    if (m.loss_family !== lossFamily(folder.config)) errors.push(`${MANIFEST_FILE}: loss_family "${m.loss_family}" but config.json implies "${lossFamily(folder.config)}"`);
    const present = new Set(await listFolderFiles(dir));
    for (const [rel, sha] of Object.entries(m.files)) {
      if (!present.has(rel)) errors.push(`${rel}: listed in ${MANIFEST_FILE} but missing`);
      else if ((await hashFile(join(dir, rel))) !== sha) errors.push(`${rel}: sha256 does not match ${MANIFEST_FILE} (file modified or corrupt)`);
    }
    for (const rel of present) if (rel !== MANIFEST_FILE && !(rel in m.files)) warnings.push(`${rel}: not listed in ${MANIFEST_FILE}`);
  }
  return { ok: errors.length === 0, errors, warnings };
}
