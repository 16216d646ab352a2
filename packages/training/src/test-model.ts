// A minuscule dual encoder for unit tests of the loop machinery (linear towers with HF-style parameter names).
// Not exported from the package; the real towers come from @duet/encoders.
import { tf } from '@duet/runtime';
import { fromFloat32, toTypedArray, type RawTensor } from '@duet/model-format';
import type { LossFamily, TrainableDualEncoder } from './model.js';

export class LinearDualEncoder implements TrainableDualEncoder {
  readonly vars = new Map<string, tf.Variable>();
  readonly logitScale: tf.Variable;
  readonly logitBias?: tf.Variable;
  private frozen = new Set<string>();

  constructor(readonly lossFamily: LossFamily, readonly pixels: number, readonly vocab: number, readonly dim: number, seed = 1) {
    const init = (shape: number[], s: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed + s);
    this.vars.set('vision_model.proj.weight', tf.variable(init([pixels, dim], 1)));
    this.vars.set('vision_model.proj.bias', tf.variable(tf.zeros([dim])));
    this.vars.set('text_model.embeddings.token_embedding.weight', tf.variable(init([vocab, dim], 2)));
    this.vars.set('text_projection.weight', tf.variable(init([dim, dim], 3)));
    this.logitScale = tf.variable(tf.scalar(Math.log(10)));
    this.vars.set('logit_scale', this.logitScale);
    if (lossFamily === 'siglip') {
      this.logitBias = tf.variable(tf.scalar(-2));
      this.vars.set('logit_bias', this.logitBias);
    }
  }

  encodeImage(pixelValues: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const b = pixelValues.shape[0];
      const x = tf.reshape(pixelValues, [b, -1]) as tf.Tensor2D; // [B, C*H*W]
      return tf.add(tf.matMul(x, this.vars.get('vision_model.proj.weight')!), this.vars.get('vision_model.proj.bias')!) as tf.Tensor2D;
    });
  }

  encodeText(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const emb = tf.gather(this.vars.get('text_model.embeddings.token_embedding.weight')!, inputIds); // [B, L, D]
      const m = tf.expandDims(tf.cast(attentionMask ?? tf.onesLike(inputIds), 'float32'), -1); // [B, L, 1]
      const pooled = tf.div(tf.sum(tf.mul(emb, m), 1), tf.sum(m, 1)) as tf.Tensor2D; // [B, D]
      return tf.tanh(tf.matMul(pooled, this.vars.get('text_projection.weight')!)) as tf.Tensor2D;
    });
  }

  namedVariables(): Map<string, tf.Variable> {
    return this.vars;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.vars].filter(([n]) => ![...this.frozen].some((p) => n.startsWith(p))).map(([, v]) => v);
  }

  toTensors(): Map<string, RawTensor> {
    return new Map([...this.vars].map(([n, v]) => [n, fromFloat32(v.dataSync() as Float32Array, v.shape)]));
  }

  loadTensors(tensors: Map<string, RawTensor>): void {
    for (const [n, v] of this.vars) {
      const t = tensors.get(n);
      if (!t) throw new Error(`missing tensor ${n}`);
      v.assign(tf.tensor(toTypedArray(t) as Float32Array, v.shape));
    }
  }

  freeze(what: 'vision' | 'text'): void {
    this.frozen.add(what === 'vision' ? 'vision_model' : 'text_');
  }
}
