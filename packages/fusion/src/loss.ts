// VQA objective and scoring: softmax cross-entropy over the answer vocabulary (one answer per question).
import { tf } from '@duet/runtime';

/** Mean cross-entropy of logits [B, A] against answer indices [B] (int32). */
export function vqaLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const [b, a] = logits.shape;
  if (labels.rank !== 1 || labels.shape[0] !== b) throw new Error(`labels: expected [${b}], got [${labels.shape.join(', ')}]`);
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits, -1); // [B, A]
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), a); // [B, A]
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar;
  });
}

/** Index of the largest logit per row (ties: the first). */
export function argmaxRows(logits: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c]! > logits[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/**
 * The answer vocabulary of a training set, as the standard VQA recipe builds it: answers ordered by frequency
 * (ties alphabetical), optionally the `maxAnswers` most frequent.
 */
export function buildAnswerVocab(answers: Iterable<string>, maxAnswers = Infinity): string[] {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).slice(0, maxAnswers).map(([a]) => a);
}
