// duet.json: the folder's own manifest. HF ignores it; Duet uses it to verify artifacts (sha256 per file),
// to record which objective trained the model, the golden self-check run before serving, and provenance.
import { z } from 'zod';
import { ConfigError, LossFamily, parseJsonInput } from './config.js';

export const DUET_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'duet.json';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256');

/** Golden self-check: inputs and the embeddings the model must reproduce (loose: the inference package fills it). */
export const DuetGolden = z.looseObject({
  texts: z.array(z.string()).optional(),
  /** Token ids / pixel values when the check bypasses the tokenizer / image processor. */
  input_ids: z.array(z.array(z.number().int())).optional(),
  attention_mask: z.array(z.array(z.number().int())).optional(),
  /** Relative path of a safetensors file with golden tensors (e.g. pixel_values), when inputs are large. */
  inputs_file: z.string().optional(),
  expected: z.looseObject({
    text_embeds: z.array(z.array(z.number())).optional(),
    image_embeds: z.array(z.array(z.number())).optional(),
  }).optional(),
  atol: z.number().nonnegative().optional(),
});

export const DuetProvenance = z.looseObject({
  created_at: z.string().optional(),
  tool: z.string().optional(),
  commit: z.string().optional(),
  step: z.number().int().nonnegative().optional(),
  /** The training configuration that produced the weights. */
  config: z.record(z.string(), z.unknown()).optional(),
  parent: z.string().optional(),
});

export const DuetManifest = z.looseObject({
  format_version: z.number().int().positive(),
  loss_family: LossFamily,
  /** Relative path (POSIX separators) -> sha256 hex of the file's bytes; duet.json itself is never listed. */
  files: z.record(z.string(), sha256Hex),
  golden: DuetGolden.optional(),
  provenance: DuetProvenance.optional(),
});
export type DuetManifest = z.output<typeof DuetManifest>;
export type DuetManifestPatch = Partial<Omit<DuetManifest, 'files'>> & { files?: Record<string, string | null> };

export function parseDuetManifest(json: unknown, source = MANIFEST_FILE): DuetManifest {
  const obj = parseJsonInput(json, source);
  const r = DuetManifest.safeParse(obj);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
    throw new ConfigError(`${source}: invalid manifest: ${issues.join('; ')}`, issues);
  }
  if (r.data.format_version > DUET_FORMAT_VERSION) {
    throw new ConfigError(`${source}: format_version ${r.data.format_version} is newer than this reader (${DUET_FORMAT_VERSION}); upgrade @duet/model-format`);
  }
  return r.data;
}

/** Applies a patch: files merge (null removes an entry), golden/provenance/other keys replace. */
export function mergeManifest(base: DuetManifest | undefined, patch: DuetManifestPatch, lossFamily: LossFamily): DuetManifest {
  const files: Record<string, string> = { ...(base?.files ?? {}) };
  for (const [k, v] of Object.entries(patch.files ?? {})) {
    if (v === null) delete files[k];
    else files[k] = v;
  }
  const { files: _f, ...rest } = patch;
  return parseDuetManifest({
    ...(base ?? {}),
    ...rest,
    // The config is the source of truth for the objective; the version is the one this writer speaks.
    format_version: DUET_FORMAT_VERSION,
    loss_family: lossFamily,
    files,
  });
}

/** Isomorphic sha256 (WebCrypto; available in browsers and Node >= 19). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('sha256: WebCrypto (crypto.subtle) is not available in this environment');
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
