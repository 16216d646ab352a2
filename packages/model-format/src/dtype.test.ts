import { describe, expect, it } from 'vitest';
import {
  SafetensorsError, bf16ToF32, convertTensor, encodeTensor, f16ToF32, f32ToBf16, f32ToF16, fromFloat32, fromTypedArray, toTypedArray,
} from './dtype.js';

describe('float16 / bfloat16 conversions', () => {
  it('encodes closed-form binary16 values', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [0.5, 0x3800], [1 / 3, 0x3555], [0.1, 0x2e66],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [3 * 2 ** -25, 0x0002],
      [65519.99, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [-Infinity, 0xfc00], [Infinity, 0x7c00],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], // ties to even
    ];
    for (const [x, bits] of cases) expect([x, f32ToF16(x)]).toEqual([x, bits]);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
  });

  it('round-trips every finite binary16 value exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaN payloads
      const back = f32ToF16(f16ToF32(h));
      if (back !== h) expect([h, back]).toEqual([h, h]);
    }
  });

  it('encodes bfloat16 with round-to-nearest-even', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-2)).toBe(0xc000);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -12)).toBe(0x3f81);
    expect(f32ToBf16(3.4e38)).toBe(0x7f80); // rounds up past the largest bf16 -> Inf
    expect(Number.isNaN(bf16ToF32(f32ToBf16(NaN)))).toBe(true);
    for (let b = 0; b < 0x10000; b += 7) {
      if ((b & 0x7f80) === 0x7f80 && b & 0x7f) continue;
      expect(f32ToBf16(bf16ToF32(b))).toBe(b);
    }
  });

  it('fromFloat32 encodes F16/BF16 tensors that decode back through toTypedArray', () => {
    const x = new Float32Array([0.5, -1.25, 3, 1024]);
    for (const dt of ['F16', 'BF16'] as const) {
      const t = fromFloat32(x, [2, 2], dt);
      expect(t.dtype).toBe(dt);
      expect(t.data.byteLength).toBe(8);
      expect([...toTypedArray(t)]).toEqual([0.5, -1.25, 3, 1024]);
    }
    expect(fromFloat32(x, [4], 'F16').data).toEqual(new Uint8Array([0x00, 0x38, 0x00, 0xbd, 0x00, 0x42, 0x00, 0x64]));
  });
});

describe('typed-array encoding', () => {
  it('range-checks integers and names the tensor', () => {
    expect(() => encodeTensor([1, 300], [2], 'U8', 'ids')).toThrow(/ids: value 300 at index 1 is not representable as U8/);
    expect(() => encodeTensor([0.5], [1], 'I32', 'ids')).toThrow(SafetensorsError);
    expect(() => encodeTensor([1, 2, 3], [2, 2], 'F32', 'w')).toThrow(/w: shape \[2,2\] holds 4 elements but 3 values/);
    expect(() => encodeTensor([2], [1], 'BOOL')).toThrow(/BOOL/);
  });

  it('converts I64 <-> I32 and F32 -> F64 exactly', () => {
    const i64 = encodeTensor([-5, 2 ** 40, 7], [3], 'I64');
    expect(new BigInt64Array(i64.data.buffer)).toEqual(new BigInt64Array([-5n, 2n ** 40n, 7n]));
    expect(() => toTypedArray(i64)).toThrow(/does not fit in int32/);
    expect([...toTypedArray(convertTensor(encodeTensor([-5, 9], [2], 'I64'), 'I32'))]).toEqual([-5, 9]);
    expect([...toTypedArray(convertTensor(i64, 'F64'))]).toEqual([-5, 2 ** 40, 7]);
    expect([...toTypedArray(convertTensor(fromTypedArray(new Int32Array([3, -4]), [2]), 'I64'))]).toEqual([3, -4]);
  });

  it('decodes misaligned data by copying', () => {
    const buf = new Uint8Array(9);
    new DataView(buf.buffer).setFloat32(1, 2.5, true);
    new DataView(buf.buffer).setFloat32(5, -1, true);
    expect([...toTypedArray({ dtype: 'F32', shape: [2], data: buf.subarray(1) })]).toEqual([2.5, -1]);
  });

  it('refuses a typed array whose element type does not match the dtype', () => {
    expect(() => fromTypedArray(new Float32Array(2), [2], 'I32')).toThrow(/use convertTensor/);
    expect(fromTypedArray(new Uint16Array([0x3f80]), [1], 'BF16').dtype).toBe('BF16');
    expect(() => fromTypedArray(new Float32Array(2), [2], 'F16')).toThrow(/cannot be stored as F16/);
    expect(() => fromTypedArray(new Float32Array(2), [3])).toThrow(/does not match 2 elements/);
  });
});

describe('convertTensors', () => {
  it('converts float tensors only', async () => {
    const { convertTensors } = await import('./dtype.js');
    const m = new Map([
      ['w', fromFloat32(new Float32Array([1, 2]), [2])],
      ['ids', encodeTensor([1, 2], [2], 'I64')],
    ]);
    const h = convertTensors(m, 'F16');
    expect(h.get('w')!.dtype).toBe('F16');
    expect([...toTypedArray(h.get('w')!)]).toEqual([1, 2]);
    expect(h.get('ids')).toBe(m.get('ids'));
  });
});
