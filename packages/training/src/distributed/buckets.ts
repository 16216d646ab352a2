// Flat-buffer collectives over many tensors, in buckets (PyTorch DDP's bucket_cap_mb, default 25 MB): the
// gradient all-reduce and the rank-0 weight broadcast. Few large messages instead of one per parameter (latency),
// without one buffer the size of the whole model (memory).
import { tf } from '@duet/runtime';
import type { ProcessGroup } from '@duet/losses';
import { storageView } from '../optim/storage.js';

export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/** Consecutive groups of `sizes` (element counts) of at most `bucketBytes` each (a bigger tensor gets its own). */
export function planBuckets(sizes: number[], bucketBytes = DEFAULT_BUCKET_BYTES): number[][] {
  if (!(bucketBytes > 0)) throw new Error(`buckets: bucketBytes must be > 0, got ${bucketBytes}`);
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  sizes.forEach((n, i) => {
    if (cur.length && bytes + n * 4 > bucketBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += n * 4;
  });
  if (cur.length) out.push(cur);
  return out;
}

async function flatten(tensors: (tf.Tensor | undefined)[], sizes: number[], idx: number[], into?: Float32Array, extra?: Float32Array): Promise<Float32Array> {
  const n = idx.reduce((a, i) => a + sizes[i]!, 0) + (extra?.length ?? 0);
  const buf = into?.length === n ? into : new Float32Array(n);
  if (extra) buf.set(extra, n - extra.length); // rides along at the end (a few floats the caller sums with the gradients)
  let off = 0;
  for (const i of idx) {
    const t = tensors[i];
    // a missing gradient contributes zeros; wasm/cpu: copied straight from the tensor's storage (no readback)
    if (t) buf.set(storageView(t) ?? ((await t.data()) as Float32Array), off);
    else buf.fill(0, off, off + sizes[i]!);
    off += sizes[i]!;
  }
  return buf;
}

/**
 * Element-wise SUM of `grads` over the group, bucket by bucket, in the order given (which must be the same on
 * every rank). Returns new tensors and disposes the inputs (one rank: returns the inputs themselves). `grads[i]` may be undefined (zeros), `shapes[i]` is
 * the parameter's shape.
 */
export async function allReduceSum(group: ProcessGroup, grads: (tf.Tensor | undefined)[], shapes: number[][], bucketBytes = DEFAULT_BUCKET_BYTES): Promise<tf.Tensor[]> {
  if (group.worldSize === 1) return grads.map((g, i) => g ?? tf.zeros(shapes[i]!)); // nothing to add
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const out = new Array<tf.Tensor>(grads.length);
  for (const idx of planBuckets(sizes, bucketBytes)) {
    const local = await flatten(grads, sizes, idx);
    const summed = await group.allReduce(local, 'sum');
    let off = 0;
    for (const i of idx) {
      out[i] = tf.tensor(summed.subarray(off, off + sizes[i]!), shapes[i]!, 'float32');
      off += sizes[i]!;
    }
  }
  tf.dispose(grads.filter((g): g is tf.Tensor => !!g));
  return out;
}

/** A group that can all-reduce into the caller's buffer (the threads group). */
interface InPlaceGroup extends ProcessGroup {
  allReduceInPlace(x: Float32Array, op?: 'sum' | 'mean'): Promise<Float32Array>;
}
const inPlace = (g: ProcessGroup): g is InPlaceGroup => typeof (g as Partial<InPlaceGroup>).allReduceInPlace === 'function';

/** Per group, the bucket buffers of the last all-reduce, reused by the next one (allocation churn drives GCs). */
const bucketBuffers = new WeakMap<ProcessGroup, Float32Array[]>();

/**
 * As allReduceSum, but the sums stay in JS: one Float32Array view per gradient into the reduced bucket buffers
 * (what the fused AdamW reads directly; no tensor is made per gradient). Disposes the inputs. The buffers are
 * reused by the next call on the same group: the views are valid until then (one training step). `extra()` (called
 * just before the last bucket is reduced) gives a few more floats to sum in the same message (DDP's per-step
 * votes, saving a collective and the wait at it); their sums are returned as `extra`.
 */
export async function allReduceSumValues(
  group: ProcessGroup, grads: (tf.Tensor | undefined)[], shapes: number[][], bucketBytes = DEFAULT_BUCKET_BYTES, extra?: () => Promise<Float32Array>,
): Promise<Float32Array[] & { extra?: Float32Array }> {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const out: Float32Array[] & { extra?: Float32Array } = new Array<Float32Array>(grads.length);
  const reuse = bucketBuffers.get(group) ?? [];
  bucketBuffers.set(group, reuse);
  try {
    const plan = planBuckets(sizes, bucketBytes);
    if (plan.length === 0) plan.push([]);
    for (const [b, idx] of plan.entries()) {
      const more = extra && b === plan.length - 1 ? await extra() : undefined;
      const local = (reuse[b] = await flatten(grads, sizes, idx, reuse[b], more));
      const summed = group.worldSize === 1 ? local : inPlace(group) ? await group.allReduceInPlace(local, 'sum') : await group.allReduce(local, 'sum');
      let off = 0;
      for (const i of idx) {
        out[i] = summed.subarray(off, off + sizes[i]!);
        off += sizes[i]!;
      }
      if (more) out.extra = summed.slice(off);
    }
  } finally {
    tf.dispose(grads.filter((g): g is tf.Tensor => !!g));
  }
  return out;
}

/** Assigns `root`'s values of `vars` on every rank (identical initial weights), in buckets. */
export async function broadcastVariables(group: ProcessGroup, vars: tf.Variable[], root = 0, bucketBytes = DEFAULT_BUCKET_BYTES): Promise<void> {
  if (group.worldSize === 1) return;
  for (const v of vars) if (v.dtype !== 'float32') throw new Error(`broadcastVariables: ${v.name} has dtype ${v.dtype}, only float32 is supported`);
  const sizes = vars.map((v) => v.size);
  for (const idx of planBuckets(sizes, bucketBytes)) {
    const mine = group.rank === root ? await flatten(vars, sizes, idx) : new Float32Array(idx.reduce((a, i) => a + sizes[i]!, 0));
    const got = await group.broadcast(mine, root);
    if (got.length !== mine.length) throw new Error(`broadcastVariables: rank ${root} sent ${got.length} values, rank ${group.rank} expected ${mine.length} (different models on different ranks?)`);
    if (group.rank === root) continue;
    let off = 0;
    for (const i of idx) {
      const v = vars[i]!;
      tf.tidy(() => v.assign(tf.tensor(got.subarray(off, off + sizes[i]!), v.shape, 'float32')));
      off += sizes[i]!;
    }
  }
}
