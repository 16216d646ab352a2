// Node: atomic model-folder saves. Everything is written into a temp folder next to the target; then the old
// folder is renamed aside, the new one renamed in, and the old one removed. At every instant the target path holds a
// complete folder, except for the instant between the two renames, which recoverModelFolder() repairs.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { configToJSON, lossFamily, parseModelConfig, type ModelConfig } from '../config.js';
import type { RawTensor } from '../dtype.js';
import { checkTensorsAgainstConfig } from '../expected-tensors.js';
import {
  CONFIG_FILE, ModelFolderError, PREPROCESSOR_CONFIG_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE, checkRelPath,
} from '../folder.js';
import { MANIFEST_FILE, mergeManifest, parseDuetManifest, type DuetManifest, type DuetManifestPatch } from '../manifest.js';
import { planSafetensors } from '../safetensors.js';
import { fsyncDir, tempName, writeDurable, writeFileAtomic } from './atomic.js';
import { hashFile, hashFolderFiles } from './hash.js';

export interface ModelFolderParts {
  config: ModelConfig | Record<string, unknown>;
  tensors: Map<string, RawTensor> | Record<string, RawTensor>;
  /** safetensors `__metadata__`; default { format: 'pt' } (what HF transformers expects). */
  metadata?: Record<string, string>;
  tokenizerJson?: Record<string, unknown> | string;
  tokenizerConfig?: Record<string, unknown>;
  preprocessorConfig?: Record<string, unknown>;
  /** Manifest fields (golden, provenance, ...); files, format_version and loss_family are filled in. */
  duet?: DuetManifestPatch;
  /** Further files, by relative path (e.g. 'onnx/text_model.onnx'). */
  extraFiles?: Record<string, Uint8Array | string>;
  /** Refuse tensors that do not match the config (missing or mis-shaped HF parameters). Default true. */
  validate?: boolean;
}

function jsonText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n';
}

/** Writes chunks to a new file, hashing them on the way. */
async function writeHashed(path: string, chunks: Iterable<Uint8Array | string>): Promise<string> {
  const h = createHash('sha256');
  await writeDurable(path, (function* () {
    for (const c of chunks) {
      h.update(c);
      yield c;
    }
  })());
  return h.digest('hex');
}

/** Sibling temp folders of a save: `.<name>.tmp-<pid>-<hex>` (being written) and `.<name>.old-<pid>-<hex>` (being replaced). */
export const TEMP_RE = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a folder's files all match its duet.json hashes (the test of a complete save). */
async function isComplete(dir: string): Promise<boolean> {
  try {
    const m = parseDuetManifest(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    for (const [rel, sha] of Object.entries(m.files)) if ((await hashFile(join(dir, rel))) !== sha) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Repairs the state a killed save can leave: if `dir` is missing, a complete new folder (temp) or else the old
 * folder is renamed back into place. Leftover temp folders of dead processes are removed. Returns what it did.
 */
export async function recoverModelFolder(dirIn: string): Promise<'none' | 'restored-new' | 'restored-old'> {
  const dir = resolve(dirIn);
  const parent = dirname(dir);
  const base = basename(dir);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return 'none';
  }
  const mine = entries.map((n) => [n, TEMP_RE.exec(n)] as const)
    .filter(([, m]) => m && m[1] === base && !alive(Number(m[3])))
    .map(([n, m]) => ({ path: join(parent, n), kind: m![2] as 'tmp' | 'old' }));
  let action: 'none' | 'restored-new' | 'restored-old' = 'none';
  if (!(await stat(dir).catch(() => undefined))) {
    const newDir = (await Promise.all(mine.filter((e) => e.kind === 'tmp').map(async (e) => ((await isComplete(e.path)) ? e : undefined)))).find(Boolean);
    const oldDir = mine.find((e) => e.kind === 'old');
    const pick = newDir ?? oldDir;
    if (pick) {
      await rename(pick.path, dir);
      action = pick === newDir ? 'restored-new' : 'restored-old';
    }
  }
  for (const e of mine) if (e.path !== dir && (await stat(e.path).catch(() => undefined))) await rm(e.path, { recursive: true, force: true });
  await fsyncDir(parent);
  return action;
}

/** Saves a complete model folder atomically; replacing an existing folder never leaves it half-written. */
export async function saveModelFolder(dirIn: string, parts: ModelFolderParts): Promise<DuetManifest> {
  const dir = resolve(dirIn);
  const config = parseModelConfig(parts.config, `${dir}/${CONFIG_FILE}`);
  // Reference order: aligned tensors, and the same bytes HF's save_pretrained would write.
  const plan = planSafetensors(parts.tensors, parts.metadata ?? { format: 'pt' }, { order: 'reference' });
  if (parts.validate !== false) {
    const check = checkTensorsAgainstConfig(config, new Map(plan.entries.map(([n, t]) => [n, t.shape])));
    if (check.errors.length) throw new ModelFolderError(`${dir}: tensors do not match the config: ${check.errors.join('; ')}`, WEIGHTS_FILE);
  }
  const files: [string, Iterable<Uint8Array | string>][] = [
    [CONFIG_FILE, [configToJSON(config)]],
    [WEIGHTS_FILE, (function* () {
      yield plan.header;
      for (const [, t] of plan.entries) yield t.data;
    })()],
  ];
  if (parts.tokenizerJson !== undefined) files.push([TOKENIZER_FILE, [jsonText(parts.tokenizerJson)]]);
  if (parts.tokenizerConfig !== undefined) files.push([TOKENIZER_CONFIG_FILE, [jsonText(parts.tokenizerConfig)]]);
  if (parts.preprocessorConfig !== undefined) files.push([PREPROCESSOR_CONFIG_FILE, [jsonText(parts.preprocessorConfig)]]);
  for (const [rel, data] of Object.entries(parts.extraFiles ?? {})) {
    checkRelPath(rel);
    if (rel === MANIFEST_FILE || files.some(([f]) => f === rel)) throw new ModelFolderError(`extraFiles["${rel}"]: collides with a file the folder writes itself`, rel);
    files.push([rel, [data]]);
  }

  await mkdir(dirname(dir), { recursive: true });
  await recoverModelFolder(dir);
  const tmp = tempName(dir, 'tmp');
  try {
    await mkdir(tmp);
    const hashes: Record<string, string> = {};
    for (const [rel, chunks] of files) {
      const p = join(tmp, rel);
      await mkdir(dirname(p), { recursive: true });
      hashes[rel] = await writeHashed(p, chunks);
    }
    const { files: _ignored, ...patch } = parts.duet ?? {};
    const manifest = mergeManifest(undefined, { ...patch, files: hashes }, lossFamily(config));
    // duet.json last: a temp folder with a manifest whose hashes all match is a complete save.
    await writeDurable(join(tmp, MANIFEST_FILE), [JSON.stringify(manifest, null, 2) + '\n']);
    for (const sub of new Set(files.map(([rel]) => dirname(join(tmp, rel))))) await fsyncDir(sub);
    await swapIn(tmp, dir);
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function swapIn(tmp: string, dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (!existing) {
    await rename(tmp, dir);
  } else {
    if (!existing.isDirectory()) throw new ModelFolderError(`${dir}: exists and is not a directory; refusing to replace it`);
    const old = tempName(dir, 'old');
    await rename(dir, old);
    try {
      await rename(tmp, dir);
    } catch (e) {
      await rename(old, dir);
      throw e;
    }
    await fsyncDir(dirname(dir));
    await rm(old, { recursive: true, force: true });
  }
  await fsyncDir(dirname(dir));
}

export interface UpdateManifestOptions {
  /** Recompute every file's sha256 from disk (e.g. after adding onnx/ exports). Default false. */
  rehash?: boolean;
}

/** Merges `patch` into the folder's duet.json (created if absent) and writes it atomically. */
export async function updateDuetManifest(dirIn: string, patch: DuetManifestPatch, opts: UpdateManifestOptions = {}): Promise<DuetManifest> {
  const dir = resolve(dirIn);
  let configText: string;
  try {
    configText = await readFile(join(dir, CONFIG_FILE), 'utf8');
  } catch (e) {
    throw new ModelFolderError(`${join(dir, CONFIG_FILE)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, CONFIG_FILE);
  }
  const config = parseModelConfig(configText, join(dir, CONFIG_FILE));
  let base: DuetManifest | undefined;
  const existing = await readFile(join(dir, MANIFEST_FILE), 'utf8').catch(() => undefined);
  if (existing !== undefined) base = parseDuetManifest(existing, join(dir, MANIFEST_FILE));
  const files = opts.rehash ? { ...Object.fromEntries(Object.keys(base?.files ?? {}).map((k) => [k, null])), ...(await hashFolderFiles(dir)) } : {};
  const manifest = mergeManifest(base, { ...patch, files: { ...files, ...(patch.files ?? {}) } }, lossFamily(config));
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
