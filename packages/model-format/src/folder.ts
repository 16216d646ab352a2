// ModelFolder: a loaded HF-compatible model folder (config.json, model.safetensors or a sharded index,
// tokenizer/preprocessor files, duet.json), with lazy tensor access. Storage-agnostic: URL (fetch) here, files in ./fs.
import { parseModelConfig, type ModelConfig } from './config.js';
import { SafetensorsError, type DType, type RawTensor } from './dtype.js';
import { SafetensorsReader } from './lazy-safetensors.js';
import { MANIFEST_FILE, parseDuetManifest, type DuetManifest } from './manifest.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const PREPROCESSOR_CONFIG_FILE = 'preprocessor_config.json';

/** Raised for a folder that cannot be used: missing required files, unreadable JSON. Names the file. */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

/** How a folder's files are reached (file system, HTTP, memory). */
export interface FolderFiles {
  /** Location for messages (directory path or base URL). */
  readonly location: string;
  /** The file's bytes, or undefined when it does not exist. */
  read(rel: string): Promise<Uint8Array | undefined>;
  /** A lazy safetensors reader, or undefined when the file does not exist. */
  openSafetensors(rel: string): Promise<SafetensorsReader | undefined>;
  /** Whether a file exists, when that is knowable without I/O (else undefined). */
  has?(rel: string): boolean | undefined;
}

export interface FolderTensorInfo {
  dtype: DType;
  shape: number[];
  /** The safetensors file (relative path) holding the tensor. */
  file: string;
}

export interface ModelFolder {
  readonly location: string;
  readonly config: ModelConfig;
  /** config.json exactly as parsed from disk (no defaults filled). */
  readonly rawConfig: Record<string, unknown>;
  /** safetensors `__metadata__` (of the first shard when sharded). */
  readonly metadata: Record<string, string>;
  readonly weightFiles: string[];
  tensorNames(): string[];
  hasTensor(name: string): boolean;
  tensorInfo(name: string): FolderTensorInfo;
  getTensor(name: string): Promise<RawTensor>;
  getAllTensors(): Promise<Map<string, RawTensor>>;
  readonly tokenizerJson?: Record<string, unknown>;
  readonly tokenizerConfig?: Record<string, unknown>;
  readonly preprocessorConfig?: Record<string, unknown>;
  readonly duet?: DuetManifest;
  hasFile(rel: string): boolean;
  readFile(rel: string): Promise<Uint8Array>;
}

function parseJsonFile(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFolderError(`${where}: unreadable JSON (${(e as Error).message})`, where);
  }
}

function asObject(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ModelFolderError(`${where}: expected a JSON object`, where);
  return v as Record<string, unknown>;
}

function join(location: string, rel: string): string {
  return location.endsWith('/') ? location + rel : `${location}/${rel}`;
}

/** Validates a relative path inside a folder (POSIX separators, no '..', not absolute). */
export function checkRelPath(rel: string): string {
  if (typeof rel !== 'string' || rel === '' || rel.startsWith('/') || rel.includes('\\') || /^[a-zA-Z]:/.test(rel)
    || rel.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new ModelFolderError(`invalid relative path ${JSON.stringify(rel)}: expected a path inside the folder like "onnx/text_model.onnx"`);
  }
  return rel;
}

class LoadedFolder implements ModelFolder {
  readonly weightFiles: string[];
  constructor(
    private readonly files: FolderFiles,
    readonly config: ModelConfig,
    readonly rawConfig: Record<string, unknown>,
    private readonly readers: Map<string, SafetensorsReader>,
    private readonly where: Map<string, string>,
    private readonly seen: Set<string>,
    readonly tokenizerJson?: Record<string, unknown>,
    readonly tokenizerConfig?: Record<string, unknown>,
    readonly preprocessorConfig?: Record<string, unknown>,
    readonly duet?: DuetManifest,
  ) {
    this.weightFiles = [...readers.keys()];
  }

  get location(): string {
    return this.files.location;
  }

  get metadata(): Record<string, string> {
    return this.readers.values().next().value?.metadata ?? {};
  }

  tensorNames(): string[] {
    return [...this.readers.entries()].flatMap(([file, r]) => r.tensorNames().filter((n) => this.where.get(n) === file));
  }

  hasTensor(name: string): boolean {
    return this.where.has(name);
  }

  private reader(name: string): [string, SafetensorsReader] {
    const file = this.where.get(name);
    if (file === undefined) throw new SafetensorsError(`${this.location}: no tensor named "${name}" in ${this.weightFiles.join(', ')}`, name);
    return [file, this.readers.get(file)!];
  }

  tensorInfo(name: string): FolderTensorInfo {
    const [file, r] = this.reader(name);
    const t = r.tensorInfo(name);
    return { dtype: t.dtype, shape: [...t.shape], file };
  }

  async getTensor(name: string): Promise<RawTensor> {
    return this.reader(name)[1].getTensor(name);
  }

  async getAllTensors(): Promise<Map<string, RawTensor>> {
    const out = new Map<string, RawTensor>();
    for (const [file, r] of this.readers) {
      for (const [name, t] of await r.getAllTensors()) if (this.where.get(name) === file) out.set(name, t);
    }
    return out;
  }

  hasFile(rel: string): boolean {
    const known = this.files.has?.(rel);
    if (known !== undefined) return known;
    return this.seen.has(rel) || (this.duet?.files[rel] !== undefined);
  }

  async readFile(rel: string): Promise<Uint8Array> {
    const bytes = await this.files.read(checkRelPath(rel));
    if (!bytes) throw new ModelFolderError(`${join(this.location, rel)}: no such file in the model folder`, rel);
    this.seen.add(rel);
    return bytes;
  }
}

/** Loads a folder through any FolderFiles backend: config and small JSON files now, tensors lazily. */
export async function openModelFolder(files: FolderFiles): Promise<ModelFolder> {
  const seen = new Set<string>();
  const readJson = async (rel: string, required: boolean): Promise<Record<string, unknown> | undefined> => {
    const where = join(files.location, rel);
    const bytes = await files.read(rel);
    if (!bytes) {
      if (required) throw new ModelFolderError(`${where}: missing (a model folder needs ${rel})`, rel);
      return undefined;
    }
    seen.add(rel);
    return asObject(parseJsonFile(bytes, where), where);
  };
  const rawConfig = (await readJson(CONFIG_FILE, true))!;
  const config = parseModelConfig(rawConfig, join(files.location, CONFIG_FILE));

  const readers = new Map<string, SafetensorsReader>();
  const where = new Map<string, string>();
  const single = await files.openSafetensors(WEIGHTS_FILE);
  if (single) {
    seen.add(WEIGHTS_FILE);
    readers.set(WEIGHTS_FILE, single);
    for (const n of single.tensorNames()) where.set(n, WEIGHTS_FILE);
  } else {
    const index = await readJson(WEIGHTS_INDEX_FILE, false);
    if (!index) throw new ModelFolderError(`${join(files.location, WEIGHTS_FILE)}: missing (a model folder needs ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE})`, WEIGHTS_FILE);
    const map = asObject(index.weight_map, `${join(files.location, WEIGHTS_INDEX_FILE)}: weight_map`);
    for (const [name, file] of Object.entries(map)) {
      if (typeof file !== 'string') throw new ModelFolderError(`${join(files.location, WEIGHTS_INDEX_FILE)}: weight_map["${name}"] must be a file name`, WEIGHTS_INDEX_FILE);
      checkRelPath(file);
      if (!readers.has(file)) {
        const r = await files.openSafetensors(file);
        if (!r) throw new ModelFolderError(`${join(files.location, file)}: missing (listed in ${WEIGHTS_INDEX_FILE})`, file);
        seen.add(file);
        readers.set(file, r);
      }
      if (!readers.get(file)!.has(name)) throw new ModelFolderError(`${join(files.location, file)}: has no tensor "${name}" (listed in ${WEIGHTS_INDEX_FILE})`, file);
      where.set(name, file);
    }
  }

  const [tokenizerJson, tokenizerConfig, preprocessorConfig, manifest] = await Promise.all([
    readJson(TOKENIZER_FILE, false), readJson(TOKENIZER_CONFIG_FILE, false), readJson(PREPROCESSOR_CONFIG_FILE, false), readJson(MANIFEST_FILE, false),
  ]);
  const duet = manifest ? parseDuetManifest(manifest, join(files.location, MANIFEST_FILE)) : undefined;
  return new LoadedFolder(files, config, rawConfig, readers, where, seen, tokenizerJson, tokenizerConfig, preprocessorConfig, duet);
}
