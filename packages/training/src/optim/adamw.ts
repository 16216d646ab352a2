// AdamW with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW semantics, as open_clip uses it).
// State (step count + first/second moments per named parameter) is serialisable to safetensors.
import { tf } from '@duet/runtime';
import { fromFloat32, toTypedArray, type RawTensor } from '@duet/model-format';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Which parameters get no weight decay; default is open_clip's exclusion rule. */
  excludeFromDecay?: (name: string, shape: readonly number[]) => boolean;
}

/**
 * open_clip's `exclude` lambda (`p.ndim < 2 or 'bn' in n or 'ln' in n or 'bias' in n or 'logit_scale' in n`),
 * extended for HF parameter names: layer norms (`layer_norm`, `layernorm`), `logit_bias`, and the token,
 * position and class embeddings get no decay. The patch embedding is a conv kernel and keeps decay as in open_clip.
 */
export function noDecay(name: string, shape: readonly number[]): boolean {
  if (shape.length < 2) return true;
  return /(^|[._])(bn|ln)|bias|logit_scale|norm|(token|position|class)_embedding/.test(name);
}

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of optimizer steps taken (t in the bias correction). */
  step = 0;
  private readonly params: Map<string, tf.Variable>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly decay = new Map<string, boolean>();

  constructor(params: Map<string, tf.Variable>, opts: AdamWOptions = {}) {
    this.params = params;
    this.lr = opts.lr ?? 5e-4;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.98;
    this.eps = opts.eps ?? 1e-6;
    this.weightDecay = opts.weightDecay ?? 0.2;
    const exclude = opts.excludeFromDecay ?? noDecay;
    for (const [name, p] of params) {
      if (p.dtype !== 'float32') throw new Error(`AdamW: parameter ${name} has dtype ${p.dtype}, expected float32`);
      // tf.variable shares the initial tensor's buffer: dispose the temporaries or their zeros outlive the first assign.
      const [m0, v0] = [tf.zerosLike(p), tf.zerosLike(p)];
      this.m.set(name, tf.variable(m0, false, `adamw/m/${name}/${uid()}`));
      this.v.set(name, tf.variable(v0, false, `adamw/v/${name}/${uid()}`));
      tf.dispose([m0, v0]);
      this.decay.set(name, !exclude(name, p.shape));
    }
  }

  /** Names of parameters that receive weight decay. */
  decayedNames(): string[] {
    return [...this.decay].filter(([, d]) => d).map(([n]) => n);
  }

  /** One update; `grads` maps parameter names to gradients (missing = zero gradient, parameter untouched). */
  applyGradients(grads: Map<string, tf.Tensor>): void {
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const stepSize = this.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        // torch order: decay first (p *= 1 - lr*wd), then the Adam step on the decayed parameter.
        const decayed = this.decay.get(name) && this.weightDecay > 0 ? p.mul(1 - this.lr * this.weightDecay) : p;
        const mNew = m.mul(this.beta1).add(g.mul(1 - this.beta1));
        const vNew = v.mul(this.beta2).add(g.square().mul(1 - this.beta2));
        const denom = vNew.sqrt().div(bc2Sqrt).add(this.eps);
        m.assign(mNew);
        v.assign(vNew);
        p.assign(decayed.sub(mNew.div(denom).mul(stepSize)));
      });
    }
  }

  /** Moments as raw tensors (`m.<name>`, `v.<name>`) plus the step count, for trainer_state/. */
  stateTensors(): { tensors: Map<string, RawTensor>; step: number } {
    const tensors = new Map<string, RawTensor>();
    for (const [name, m] of this.m) {
      tensors.set(`m.${name}`, fromFloat32(m.dataSync() as Float32Array, m.shape));
      tensors.set(`v.${name}`, fromFloat32(this.v.get(name)!.dataSync() as Float32Array, m.shape));
    }
    return { tensors, step: this.step };
  }

  loadState(tensors: Map<string, RawTensor>, step: number): void {
    for (const [name, m] of this.m) {
      for (const [prefix, target] of [['m', m], ['v', this.v.get(name)!]] as const) {
        const raw = tensors.get(`${prefix}.${name}`);
        if (!raw) throw new Error(`optimizer state: missing ${prefix}.${name}`);
        if (raw.shape.join(',') !== target.shape.join(',')) {
          throw new Error(`optimizer state: ${prefix}.${name} has shape [${raw.shape}], expected [${target.shape}]`);
        }
        const value = tf.tensor(toTypedArray(raw) as Float32Array, target.shape, 'float32');
        target.assign(value);
        value.dispose();
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

let counter = 0;
function uid(): number {
  return counter++;
}
