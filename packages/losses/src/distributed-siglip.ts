// SigLIP over a ProcessGroup with open_clip's neighbour exchange: only text embeddings travel, block by block
// around the ring; each rank scores its images against its own texts (positives) and then every remote text block
// (negatives). No all-gather, so per-rank memory stays O(b·E + b²).
//
// Backward exchange (design): the gradient w.r.t. a remote text block is needed by the block's owner. An
// accumulator rides along with the block (created at the first remote rank, each visited rank adds its
// contribution s·dLᵀ·img), and after the last visit it is sent straight to the owner. Per rank and step that is
// (W−1) text blocks forward plus (W−1) gradient blocks back: 2·(W−1)·b·E floats, with O(b·E) memory.
import { tf } from '@duet/runtime';
import { mm } from './matmul.js';
import type { ProcessGroup } from './process-group.js';
import { siglipBlock } from './siglip-block.js';
import { checkFinite, validatePair } from './validate.js';
import type { ContrastiveInputs, DistributedResult } from './types.js';
import type { DistributedOptions } from './distributed-clip.js';

export interface DistributedSiglipOptions extends DistributedOptions {
  /** open_clip's bidirectional neighbour exchange: blocks travel both ways, ⌈(W−1)/2⌉ rounds instead of W−1. */
  bidirectional?: boolean;
}

interface Stream {
  to: number; // neighbour the blocks are sent to
  from: number; // neighbour they arrive from
  hops: number; // how many remote blocks this stream brings
  block: Float32Array; // text block currently held (starts with our own)
  acc: tf.Tensor2D | null; // gradient accumulator of the held block (null for our own / before the first visit)
  owner: number;
}

/**
 * Loss semantics: `loss` = Σ over all pairs of softplus(−z) / N for the concatenated batch of N pairs — the
 * single-process loss, identical on every rank. `localLoss` = this rank's rows normalised by its local batch
 * (open_clip's per-rank SigLipLoss value); the mean over ranks equals `loss` for equal local batches.
 * Gradients w.r.t. local embeds are ∂loss/∂(local embeds) (sum parameter gradients over ranks);
 * gradLogitScale / gradLogitBias are already global.
 */
export async function distributedSiglipLoss(local: ContrastiveInputs, group: ProcessGroup, opts: DistributedSiglipOptions = {}): Promise<DistributedResult> {
  const what = `distributedSiglipLoss(rank ${group.rank})`;
  const { batch: b, dim: e } = validatePair(local, what, true);
  if (opts.checkFinite !== false) checkFinite(what, { ...local });
  const bytes0 = group.bytesSent;
  const w = group.worldSize;
  const r = group.rank;
  const img = local.imageEmbeds as tf.Tensor2D;
  const tNum = typeof local.logitScale === 'number' ? local.logitScale : (await local.logitScale.data())[0]!;
  const bNum = typeof local.logitBias === 'number' ? local.logitBias : (await local.logitBias!.data())[0]!;
  const s = tf.scalar(Math.exp(tNum));
  const bias = tf.scalar(bNum);

  // Own block: the only one with positives.
  const own = tf.tidy(() => {
    const txt = local.textEmbeds as tf.Tensor2D;
    const blk = siglipBlock(img, txt, s, bias, 0, 0, true);
    return {
      gImg: tf.matMul(blk.dLogits!, txt),
      gTxt: mm(blk.dLogits!, img, true),
      sums: tf.stack([blk.lossSum, tf.sum(tf.sum(tf.mul(blk.dLogits!, blk.dots!), 1)), tf.sum(tf.sum(blk.dLogits!, 1))]),
    };
  });
  let gImg = own.gImg as tf.Tensor2D;
  let sums = own.sums;
  const ownTxt = (await local.textEmbeds.data()) as Float32Array;

  const right = (r + 1) % w;
  const left = (r - 1 + w) % w;
  const streams: Stream[] = [];
  if (w > 1) {
    const remote = w - 1;
    const both = opts.bidirectional ? Math.floor(remote / 2) : 0;
    streams.push({ to: right, from: left, hops: remote - both, block: ownTxt, acc: null, owner: r });
    if (both > 0) streams.push({ to: left, from: right, hops: both, block: ownTxt, acc: null, owner: r });
  }
  const rounds = Math.max(0, ...streams.map((st) => st.hops));
  for (let k = 1; k <= rounds; k++) {
    const active = streams.filter((st) => st.hops >= k);
    // Send the held block (plus its accumulator once one exists) and receive the neighbour's, all streams at once.
    const received = await Promise.all(
      active.map(async (st) => {
        const accData = st.acc ? ((await st.acc.data()) as Float32Array) : null;
        const msg = accData ? concatF32(st.block, accData) : st.block;
        return group.sendRecv(msg, st.to, st.from);
      }),
    );
    active.forEach((st, i) => {
      const msg = received[i]!;
      const withAcc = k >= 2;
      const width = withAcc ? 2 * e : e;
      if (msg.length % width !== 0) throw new Error(`${what}: received ${msg.length} values from rank ${st.from}, not a multiple of ${width} (embedding dims differ across ranks?)`);
      const rows = msg.length / width;
      st.block = msg.subarray(0, rows * e);
      st.owner = st.to === right ? (st.owner - 1 + w) % w : (st.owner + 1) % w;
      const next = tf.tidy(() => {
        const txt = tf.tensor2d(st.block, [rows, e]);
        const blk = siglipBlock(img, txt, s, bias, 0, b, true); // disjoint index ranges: all negatives
        const contrib = mm(blk.dLogits!, img, true); // [rows, E]
        return {
          gImg: tf.add(gImg, tf.matMul(blk.dLogits!, txt)),
          acc: withAcc ? tf.add(tf.tensor2d(msg.subarray(rows * e), [rows, e]), contrib) : contrib,
          sums: tf.add(sums, tf.stack([blk.lossSum, tf.sum(tf.sum(tf.mul(blk.dLogits!, blk.dots!), 1)), tf.sum(tf.sum(blk.dLogits!, 1))])),
        };
      });
      st.acc?.dispose();
      gImg.dispose();
      sums.dispose();
      gImg = next.gImg as tf.Tensor2D;
      st.acc = next.acc as tf.Tensor2D;
      sums = next.sums;
    });
  }
  // Return each finished accumulator directly to the owner of its block; collect ours from each stream.
  const returned = await Promise.all(
    streams.map(async (st) => {
      const data = (await st.acc!.data()) as Float32Array;
      st.acc!.dispose();
      const hops = st.hops;
      const from = st.to === right ? (r + hops) % w : (r - hops + w) % w;
      const got = await group.sendRecv(data, st.owner, from);
      if (got.length !== b * e) throw new Error(`${what}: gradient block from rank ${from} has ${got.length} values, expected ${b}·${e}`);
      return got;
    }),
  );
  const sumData = (await sums.data()) as Float32Array;
  sums.dispose();
  const tot = await group.allReduce(Float32Array.from([sumData[0]!, sumData[1]!, sumData[2]!, b]));
  const n = tot[3]!;
  const out = tf.tidy(() => {
    let gTxt: tf.Tensor = own.gTxt;
    for (const g of returned) gTxt = tf.add(gTxt, tf.tensor2d(g, [b, e]));
    const sk = tf.div(s, n);
    return {
      loss: tf.scalar(tot[0]! / n),
      localLoss: tf.scalar(sumData[0]! / b),
      gradImageEmbeds: tf.mul(gImg, sk) as tf.Tensor2D,
      gradTextEmbeds: tf.mul(gTxt, sk) as tf.Tensor2D,
      gradLogitScale: tf.mul(tf.scalar(tot[1]!), sk) as tf.Scalar, // ∂logit/∂t′ = s·dots
      gradLogitBias: tf.scalar(tot[2]! / n),
    };
  });
  tf.dispose([gImg, own.gTxt, s, bias]);
  return { ...out, bytesCommunicated: group.bytesSent - bytes0 };
}

function concatF32(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
