import { describe, expect, it } from 'vitest';
import { SafetensorsError, fromFloat32, type RawTensor } from './dtype.js';
import { openSafetensorsBytes } from './lazy-safetensors.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { MODELS, rawHeader, readFixture } from './test-util/fixtures.js';

/** Builds a file from a raw header object and data buffer (to plant violations the writer refuses to produce). */
function craft(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = Buffer.from(JSON.stringify(header));
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return new Uint8Array(out);
}

describe.each(MODELS)('%s model.safetensors', (model) => {
  const bytes = readFixture(model);
  const raw = rawHeader(bytes);

  it('reads every tensor with the names, dtypes and shapes of the file header', () => {
    const { tensors, metadata } = readSafetensors(bytes, model);
    const names = Object.keys(raw.json).filter((k) => k !== '__metadata__');
    expect([...tensors.keys()].sort()).toEqual(names.sort());
    expect(metadata).toEqual((raw.json as Record<string, unknown>).__metadata__);
    for (const n of names) {
      const t = tensors.get(n)!;
      expect({ dtype: t.dtype, shape: t.shape }).toEqual({ dtype: raw.json[n]!.dtype, shape: raw.json[n]!.shape });
      const [b, e] = raw.json[n]!.data_offsets;
      expect(Buffer.from(t.data).equals(Buffer.from(bytes.subarray(8 + raw.len + b, 8 + raw.len + e)))).toBe(true);
    }
  });

  it('writes back byte-identical to the reference writer and re-reads identical tensors', () => {
    const { tensors, metadata } = readSafetensors(bytes);
    // Shuffle the input order: 'reference' order must restore the reference writer's layout exactly.
    const shuffled = new Map([...tensors.entries()].reverse());
    const out = writeSafetensors(shuffled, metadata, { order: 'reference' });
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    const again = readSafetensors(writeSafetensors(tensors, metadata)).tensors;
    for (const [n, t] of tensors) {
      expect(again.get(n)!.shape).toEqual(t.shape);
      expect(Buffer.from(again.get(n)!.data).equals(Buffer.from(t.data))).toBe(true);
    }
  });

  it('lazy reader gives the same tensors as the in-memory reader', async () => {
    const r = await openSafetensorsBytes(bytes, model);
    const { tensors } = readSafetensors(bytes);
    expect(r.tensorNames().sort()).toEqual([...tensors.keys()].sort());
    for (const n of r.tensorNames()) expect(Buffer.from((await r.getTensor(n)).data).equals(Buffer.from(tensors.get(n)!.data))).toBe(true);
    expect([...(await r.getAllTensors()).keys()]).toEqual(r.tensorNames());
    await expect(r.getTensor('nope')).rejects.toThrow(/no tensor named "nope"/);
  });
});

describe('writer', () => {
  it('pads the header with spaces to an 8-byte boundary and keeps every dtype', () => {
    const tensors: Record<string, RawTensor> = {
      a: { dtype: 'I64', shape: [2], data: new Uint8Array(16).fill(1) },
      b: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
      c: { dtype: 'BF16', shape: [1, 2], data: new Uint8Array(4).fill(2) },
      d: { dtype: 'F64', shape: [], data: new Uint8Array(8).fill(3) },
      e: { dtype: 'I8', shape: [0, 5], data: new Uint8Array(0) },
      f: { dtype: 'I16', shape: [1], data: new Uint8Array(2) },
      g: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
      h: { dtype: 'F16', shape: [1], data: new Uint8Array(2) },
      i: { dtype: 'I32', shape: [1], data: new Uint8Array(4) },
      j: fromFloat32(new Float32Array([1]), [1]),
    };
    const out = writeSafetensors(tensors, { k: 'v' });
    const { len } = rawHeader(out);
    expect(len % 8).toBe(0);
    expect(8 + len + 16 + 3 + 4 + 8 + 2 + 1 + 2 + 4 + 4).toBe(out.length);
    const back = readSafetensors(out);
    expect(back.metadata).toEqual({ k: 'v' });
    for (const [n, t] of Object.entries(tensors)) expect(back.tensors.get(n)).toEqual({ ...t, data: expect.any(Uint8Array) });
    for (const [n, t] of Object.entries(tensors)) expect([...back.tensors.get(n)!.data]).toEqual([...t.data]);
  });

  it("'reference' order puts wider dtypes first, then names, so every tensor is aligned", () => {
    const t = (dtype: RawTensor['dtype'], n: number): RawTensor => ({ dtype, shape: [n], data: new Uint8Array(n * { U8: 1, F32: 4, I64: 8, F16: 2, BOOL: 1, F64: 8, I32: 4, BF16: 2, I16: 2, I8: 1 }[dtype]) });
    const out = writeSafetensors({ b: t('U8', 3), z: t('F32', 1), a: t('F32', 2), c: t('I64', 1), h: t('F16', 3), m: t('BOOL', 1) }, undefined, { order: 'reference' });
    const { len, json } = rawHeader(out);
    expect(Object.keys(json)).toEqual(['c', 'a', 'z', 'h', 'b', 'm']);
    for (const v of Object.values(json)) {
      const size = { U8: 1, F32: 4, I64: 8, F16: 2, BOOL: 1 }[v.dtype as 'U8']!;
      expect((8 + len + v.data_offsets[0]) % size).toBe(0);
    }
    expect(Object.keys(rawHeader(writeSafetensors({ b: t('U8', 1), a: t('U8', 1) })).json)).toEqual(['b', 'a']); // default: given order
  });

  it('refuses invalid tensors with the tensor name', () => {
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Uint8Array(4) } })).toThrow(/"w": F32 \[2\] needs 8 bytes, got 4/);
    expect(() => writeSafetensors({ w: { dtype: 'F8' as never, shape: [1], data: new Uint8Array(1) } })).toThrow(/"w": unsupported dtype "F8"/);
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [-1], data: new Uint8Array(0) } })).toThrow(/"w": shape must be/);
    expect(() => writeSafetensors({ __metadata__: { dtype: 'U8', shape: [], data: new Uint8Array(1) } })).toThrow(/reserved/);
    expect(() => writeSafetensors({}, { n: 1 as unknown as string })).toThrow(/__metadata__.n must be a string/);
  });

  it('handles a tensor named __proto__', () => {
    const out = writeSafetensors({ ['__proto__']: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) } });
    expect([...readSafetensors(out).tensors.get('__proto__')!.data]).toEqual([7]);
  });
});

describe('reader validation (each violation names the tensor)', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'U8', shape: [4], data_offsets: [8, 12] } };
  const data = new Uint8Array(12);
  const cases: [string, unknown, Uint8Array, RegExp][] = [
    ['overlap', { ...ok, b: { dtype: 'U8', shape: [4], data_offsets: [4, 8] } }, new Uint8Array(8), /tensor "b" overlaps tensor "a"/],
    ['gap', { ...ok, b: { dtype: 'U8', shape: [2], data_offsets: [10, 12] } }, data, /gap of 2 bytes before tensor "b"/],
    ['byte length', { ...ok, b: { dtype: 'U8', shape: [3], data_offsets: [8, 12] } }, data, /tensor "b": U8 \[3\] needs 3 bytes but data_offsets \[8, 12\] span 4/],
    ['out of bounds', { ...ok, b: { dtype: 'U8', shape: [8], data_offsets: [8, 16] } }, data, /tensor "b": data_offsets \[8, 16\] run past the 12-byte data buffer/],
    ['bad dtype', { ...ok, b: { dtype: 'Q4', shape: [4], data_offsets: [8, 12] } }, data, /tensor "b": unsupported dtype "Q4"/],
    ['negative dim', { ...ok, b: { dtype: 'U8', shape: [-4], data_offsets: [8, 12] } }, data, /tensor "b": shape must be/],
    ['huge shape', { ...ok, b: { dtype: 'F64', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [8, 12] } }, data, /tensor "b": .*too many elements/],
    ['reversed offsets', { ...ok, b: { dtype: 'U8', shape: [4], data_offsets: [12, 8] } }, data, /tensor "b": data_offsets end 8 is before begin 12/],
    ['non-integer offset', { ...ok, b: { dtype: 'U8', shape: [4], data_offsets: [8.5, 12] } }, data, /tensor "b": data_offsets must be/],
    ['entry not object', { ...ok, b: 5 }, data, /tensor "b": entry must be an object/],
    ['trailing bytes', ok, new Uint8Array(16), /4 trailing bytes/],
    ['metadata', { ...ok, __metadata__: { x: 1 } }, data, /__metadata__.x must be a string/],
    ['header array', [1, 2], data, /header must start with '\{'/],
  ];
  it.each(cases)('%s', (_n, header, buf, re) => {
    const f = craft(header, buf);
    expect(() => readSafetensors(f, 'f.safetensors')).toThrow(SafetensorsError);
    expect(() => readSafetensors(f, 'f.safetensors')).toThrow(re);
  });

  it('rejects bad length prefixes and truncations with the file name', () => {
    const good = craft(ok, data);
    expect(() => readSafetensors(good.subarray(0, 5), 'x.st')).toThrow(/x.st: file is 5 bytes, shorter than the 8-byte header length/);
    expect(() => readSafetensors(good.subarray(0, 20), 'x.st')).toThrow(/runs past the end of the 20-byte file/);
    expect(() => readSafetensors(good.subarray(0, good.length - 1), 'x.st')).toThrow(/x.st: tensor "b": data_offsets \[8, 12\] run past the 11-byte data buffer/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => readSafetensors(huge)).toThrow(/exceeds the 100000000-byte limit/);
    const bad = craft(ok, data);
    bad[9] = 0xff; // invalid UTF-8 inside the JSON
    expect(() => readSafetensors(bad)).toThrow(/not valid UTF-8 JSON/);
  });

  it('accepts an ArrayBuffer and rejects non-bytes with a SafetensorsError', () => {
    const f = craft(ok, data);
    expect(readSafetensors(f.slice().buffer).tensors.size).toBe(2);
    expect(() => readSafetensors('abc' as never, 'y')).toThrow(/y: expected a Uint8Array or ArrayBuffer, got string/);
  });

  it('accepts zero-size tensors, an empty file header and unpadded headers', () => {
    expect(readSafetensors(craft({}, new Uint8Array(0))).tensors.size).toBe(0);
    const f = craft({ z: { dtype: 'F32', shape: [0, 3], data_offsets: [0, 0] }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1), false);
    const r = readSafetensors(f);
    expect(r.tensors.get('z')!.data.byteLength).toBe(0);
    expect([...r.tensors.get('a')!.data]).toEqual([0]);
  });
});
