// Checks a loaded folder: tensors against the config, duet.json's loss family, and (optionally) artifact hashes.
// Isomorphic: hashes read files through the folder (fetch in a browser); Node's verifyFolder streams them from disk.
import { lossFamily } from './config.js';
import { checkTensorsAgainstConfig } from './expected-tensors.js';
import { ModelFolderError, type ModelFolder } from './folder.js';
import { MANIFEST_FILE, sha256 } from './manifest.js';

export interface VerifyResult {
  ok: boolean;
  errors: string[];
  warnings: string[];
}

export interface CheckOptions {
  /** Check every artifact's sha256 against duet.json (reads each file). Default true. */
  hashes?: boolean;
  /** sha256 of a file, or undefined when it is missing; default reads it through the folder. */
  hashOf?: (rel: string) => Promise<string | undefined>;
}

export async function checkModelFolder(folder: ModelFolder, opts: CheckOptions = {}): Promise<VerifyResult> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const check = checkTensorsAgainstConfig(folder.config, new Map(folder.tensorNames().map((n) => [n, folder.tensorInfo(n).shape])));
  errors.push(...check.errors);
  warnings.push(...check.warnings);
  const m = folder.duet;
  if (!m) {
    warnings.push(`${MANIFEST_FILE} missing: artifact hashes not checked`);
  } else {
    if (m.loss_family !== lossFamily(folder.config)) errors.push(`${MANIFEST_FILE}: loss_family "${m.loss_family}" but config.json implies "${lossFamily(folder.config)}"`);
    if (opts.hashes !== false) {
      const hashOf = opts.hashOf ?? (async (rel: string) => {
        try {
          return await sha256(await folder.readFile(rel));
        } catch (e) {
          if (e instanceof ModelFolderError) return undefined;
          throw e;
        }
      });
      for (const [rel, sha] of Object.entries(m.files)) {
        const got = await hashOf(rel);
        if (got === undefined) errors.push(`${rel}: listed in ${MANIFEST_FILE} but missing`);
        else if (got !== sha) errors.push(`${rel}: sha256 does not match ${MANIFEST_FILE} (file modified or corrupt)`);
      }
    }
  }
  return { ok: errors.length === 0, errors, warnings };
}
