import { describe, expect, it } from 'vitest';
import { compact } from './worker-pool.js';

describe('worker job messages', () => {
  it('copy image views into their own small buffers (a clone would carry the whole backing buffer)', () => {
    const big = new Uint8Array(1 << 20).map((_, i) => i & 255);
    const view = big.subarray(1000, 1000 + 784);
    const raw = compact({ kind: 'raw', image: { data: view, width: 28, height: 28, channels: 1 } });
    const data = (raw.message as { image: { data: Uint8Array } }).image.data;
    expect(data.buffer.byteLength).toBe(784);
    expect(Array.from(data.subarray(0, 3))).toEqual([1000 & 255, 1001 & 255, 1002 & 255]);
    expect(raw.transfer).toEqual([data.buffer]);
    const bytes = compact({ kind: 'bytes', bytes: big.subarray(5, 15), ext: 'jpg' });
    expect((bytes.message as { bytes: Uint8Array }).bytes.buffer.byteLength).toBe(10);
    expect(view.buffer.byteLength).toBe(1 << 20); // the source is untouched
    expect(compact({ kind: 'file', path: '/x.png' })).toEqual({ message: { kind: 'file', path: '/x.png' }, transfer: [] });
  });
});
