// Fuzzes the reader with mutated files: the only acceptable outcomes are a valid parse or a SafetensorsError
// with a message (never another exception, a crash or a hang).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSafetensors } from './fs/file-source.js';
import { SafetensorsError } from './dtype.js';
import { openSafetensorsBytes } from './lazy-safetensors.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { readFixture } from './test-util/fixtures.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const small = writeSafetensors({
  ids: { dtype: 'I64', shape: [2, 3], data: new Uint8Array(48).fill(1) },
  w: { dtype: 'F32', shape: [3, 2], data: new Uint8Array(24).fill(2) },
  h: { dtype: 'F16', shape: [5], data: new Uint8Array(10).fill(3) },
  m: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
}, { format: 'pt' });
const clip = readFixture('tiny-clip');

function headerOf(f: Uint8Array): { len: number; json: Record<string, Record<string, unknown>> } {
  const len = Number(new DataView(f.buffer, f.byteOffset).getBigUint64(0, true));
  return { len, json: JSON.parse(new TextDecoder().decode(f.subarray(8, 8 + len))) };
}

function rebuild(f: Uint8Array, json: unknown, lenDelta = 0): Uint8Array {
  const { len } = headerOf(f);
  const body = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(8 + body.length + f.length - 8 - len);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length + lenDelta), true);
  out.set(body, 8);
  out.set(f.subarray(8 + len), 8 + body.length);
  return out;
}

type Mutation = (f: Uint8Array, r: () => number) => { bytes: Uint8Array; mustFail: boolean };
const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const tensorNames = (f: Uint8Array): string[] => Object.keys(headerOf(f).json).filter((k) => k !== '__metadata__');

const mutations: Record<string, Mutation> = {
  truncate: (f, r) => ({ bytes: f.subarray(0, Math.floor(r() * f.length)), mustFail: true }),
  flipHeaderBytes: (f, r) => {
    const { len } = headerOf(f);
    const b = f.slice();
    for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) b[8 + Math.floor(r() * len)] = Math.floor(r() * 256);
    return { bytes: b, mustFail: false }; // a flip inside a name or padding can leave a valid file
  },
  bogusLength: (f, r) => {
    const b = f.slice();
    const v = pick(r, [0n, 1n, 7n, 2n ** 64n - 1n, 2n ** 53n + 1n, BigInt(f.length), BigInt(headerOf(f).len + 1 + Math.floor(r() * 64)), BigInt(Math.max(0, headerOf(f).len - 1 - Math.floor(r() * 64)))]);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return { bytes: b, mustFail: true };
  },
  shiftOffsets: (f, r) => {
    const { json } = headerOf(f);
    const n = pick(r, tensorNames(f));
    const off = json[n]!.data_offsets as number[];
    const d = pick(r, [-3, -1, 1, 2, 8]);
    json[n]!.data_offsets = pick(r, [[off[0]! + d, off[1]! + d], [off[0]!, off[1]! + d], [off[0]! + d, off[1]!]]);
    return { bytes: rebuild(f, json), mustFail: true };
  },
  overlapping: (f, r) => {
    const { json } = headerOf(f);
    const names = tensorNames(f);
    const a = pick(r, names);
    const b = pick(r, names.filter((x) => x !== a));
    json[b] = { ...json[a] };
    return { bytes: rebuild(f, json), mustFail: true };
  },
  badDtype: (f, r) => {
    const { json } = headerOf(f);
    json[pick(r, tensorNames(f))]!.dtype = pick(r, ['F8_E4M3', 'f32', '', 7, null, 'C64', 'U64', 'F32 ', ['F32']]);
    return { bytes: rebuild(f, json), mustFail: true };
  },
  hugeShape: (f, r) => {
    const { json } = headerOf(f);
    json[pick(r, tensorNames(f))]!.shape = pick(r, [[2 ** 53], [2 ** 31, 2 ** 31, 2 ** 31], [1e308], [-1], [1.5], ['2'], null, 3, [2 ** 40, 0, 2 ** 40, 2 ** 40]]);
    return { bytes: rebuild(f, json), mustFail: false }; // [2^40, 0, ...] is a valid empty tensor only if offsets agree (they don't)
  },
  badEntry: (f, r) => {
    const { json } = headerOf(f);
    const n = pick(r, tensorNames(f));
    json[n] = pick<unknown>(r, [null, 1, 'x', [], { dtype: 'F32' }, { ...json[n], data_offsets: [0] }, { ...json[n], data_offsets: 'a' }, { ...json[n], data_offsets: [-8, 0] }]) as Record<string, unknown>;
    return { bytes: rebuild(f, json), mustFail: true };
  },
  badMetadata: (f, r) => {
    const { json } = headerOf(f);
    (json as Record<string, unknown>).__metadata__ = pick(r, [null, 1, [], { a: 1 }, { a: { b: 'c' } }, 'pt']);
    return { bytes: rebuild(f, json), mustFail: true };
  },
  notAnObject: (f, r) => {
    const body = new TextEncoder().encode(pick(r, ['[]', 'null', '"x"', '{', '{"a":', '  {}', '{}}', '\u0000{}', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}']));
    const out = new Uint8Array(8 + body.length + 4);
    new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
    out.set(body, 8);
    return { bytes: out, mustFail: true };
  },
  lengthMismatch: (f, r) => {
    const { json } = headerOf(f);
    return { bytes: rebuild(f, json, pick(r, [-2, -1, 1, 3])), mustFail: true };
  },
  randomBytes: (_f, r) => {
    const b = new Uint8Array(Math.floor(r() * 64));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
    return { bytes: b, mustFail: true };
  },
};

describe('safetensors reader fuzz', () => {
  it('through the Node file reader too (a sample of 60 mutated files on disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-fuzz-'));
    try {
      const r = rng(99);
      const kinds = Object.keys(mutations);
      for (let i = 0; i < 60; i++) {
        const kind = kinds[i % kinds.length]!;
        const { bytes, mustFail } = mutations[kind]!(small, r);
        const p = join(dir, `f${i}.safetensors`);
        writeFileSync(p, bytes);
        let err: unknown = null;
        try {
          await (await openSafetensors(p)).getAllTensors();
        } catch (e) {
          err = e;
        }
        if (err !== null && !(err instanceof SafetensorsError)) throw new Error(`${kind} #${i}: got ${String(err)}`);
        if (err) expect((err as Error).message.startsWith(p)).toBe(true);
        if (mustFail) expect([kind, i, err !== null]).toEqual([kind, i, true]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('always parses or throws a SafetensorsError with a message, in memory and lazily (>= 200 files per base)', async () => {
    const r = rng(1234);
    const tally: Record<string, number> = {};
    let n = 0;
    for (const [baseName, base] of [['small', small], ['tiny-clip', clip]] as const) {
      for (let i = 0; i < 264; i++) {
        const kind = Object.keys(mutations)[i % Object.keys(mutations).length]!;
        const { bytes, mustFail } = mutations[kind]!(base, r);
        let eager: unknown = null;
        let lazy: unknown = null;
        try {
          const { tensors } = readSafetensors(bytes, 'fuzz');
          for (const t of tensors.values()) expect(t.data.byteLength).toBeGreaterThanOrEqual(0);
        } catch (e) {
          eager = e;
        }
        try {
          const rd = await openSafetensorsBytes(bytes, 'fuzz');
          await rd.getAllTensors();
        } catch (e) {
          lazy = e;
        }
        for (const e of [eager, lazy]) {
          if (e !== null) {
            if (!(e instanceof SafetensorsError)) throw new Error(`${baseName}/${kind} #${i}: got ${String(e)}`);
            expect(e.message).toMatch(/^fuzz: .{10,}/);
          }
        }
        expect([baseName, kind, i, eager === null]).toEqual([baseName, kind, i, lazy === null]);
        if (mustFail) expect([baseName, kind, i, eager instanceof SafetensorsError]).toEqual([baseName, kind, i, true]);
        tally[kind] = (tally[kind] ?? 0) + (eager ? 1 : 0);
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(400);
    // Every mutation kind produced rejections (the fuzzer is not vacuous).
    for (const k of Object.keys(mutations)) expect([k, (tally[k] ?? 0) > 0]).toEqual([k, true]);
  });
});
