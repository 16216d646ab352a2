// AdamW with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW semantics, as open_clip uses it).
// State (step count + first/second moments per named parameter) is serialisable to safetensors.
//
// On the wasm and cpu backends the update is fused: one pass of JS per parameter over the gradient, the moments
// and the parameter, in the tensors' own storage (torch's `fused=True` idea; moments in place, the parameter into a
// new buffer). The per-parameter chain of
// ~12 TensorFlow.js ops it replaces cost more in op dispatch than in arithmetic on a small model (~9 ms of a
// ~230 ms step of the Fashion-MNIST recipe, paid again by every data-parallel rank). Arithmetic is in float64,
// stored as float32 (the op chain rounded after every op: the two differ by float32 rounding). Other backends
// (webgpu) keep the op chain, which stays on the device.
import { tf } from '@duet/runtime';
import { fromFloat32, toTypedArray, type RawTensor } from '@duet/model-format';
import { bufferRefCount, gradientValues, hostBackend, storageView, type Gradient } from './storage.js';

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
  /** The buffer (dataId) the fused update last wrote to each moment: only those are updated in place. */
  private readonly owned = new WeakMap<tf.Variable, object>();

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
      const [m, v] = [tf.variable(m0, false, `adamw/m/${name}/${uid()}`), tf.variable(v0, false, `adamw/v/${name}/${uid()}`)];
      tf.dispose([m0, v0]);
      this.owned.set(m, m.dataId);
      this.owned.set(v, v.dataId);
      this.m.set(name, m);
      this.v.set(name, v);
      this.decay.set(name, !exclude(name, p.shape));
    }
  }

  /** Names of parameters that receive weight decay. */
  decayedNames(): string[] {
    return [...this.decay].filter(([, d]) => d).map(([n]) => n);
  }

  /**
   * One update; `grads` maps parameter names to gradients (missing = zero gradient, parameter untouched), as
   * tensors or as values in JS. `scale` multiplies every gradient first (the global-norm clipping coefficient,
   * applied inside the pass instead of as a separate rescale of every gradient).
   */
  applyGradients(grads: Map<string, Gradient>, opts: { scale?: number } = {}): void {
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const stepSize = this.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const scale = opts.scale ?? 1;
    const fused = hostBackend();
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
      const gSize = g instanceof Float32Array ? g.length : g.size;
      if (gSize !== p.size) throw new Error(`AdamW: gradient for ${name} has ${gSize} values, the parameter ${p.size}`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const decayFactor = this.decay.get(name) && this.weightDecay > 0 ? 1 - this.lr * this.weightDecay : 1;
      if (fused && this.fusedUpdate(p, m, v, g, { scale, decayFactor, stepSize, bc2Sqrt })) continue;
      tf.tidy(() => {
        const g0 = g instanceof Float32Array ? tf.tensor(g, p.shape, 'float32') : g;
        const g1 = scale !== 1 ? g0.mul(scale) : g0;
        // torch order: decay first (p *= 1 - lr*wd), then the Adam step on the decayed parameter.
        const decayed = decayFactor !== 1 ? p.mul(decayFactor) : p;
        const mNew = m.mul(this.beta1).add(g1.mul(1 - this.beta1));
        const vNew = v.mul(this.beta2).add(g1.square().mul(1 - this.beta2));
        const denom = vNew.sqrt().div(bc2Sqrt).add(this.eps);
        m.assign(mNew);
        v.assign(vNew);
        p.assign(decayed.sub(mNew.div(denom).mul(stepSize)));
      });
    }
  }

  /**
   * p ← p·decay − stepSize·m̂/(√v̂ + ε) in one pass: the moments in place where this optimizer owns their buffers,
   * the parameter into a new buffer. False (nothing done) when the backend gives no view of a buffer; the caller
   * then runs the op chain.
   */
  private fusedUpdate(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: Gradient, k: { scale: number; decayFactor: number; stepSize: number; bc2Sqrt: number }): boolean {
    const { beta1: b1, beta2: b2, eps } = this;
    const { scale, decayFactor, stepSize, bc2Sqrt } = k;
    // Moments in place only in a buffer this optimizer wrote and nothing else shares (on the cpu backend a tensor
    // made from an array IS that array: a checkpoint's bytes must not change under their owner). Otherwise write
    // fresh arrays and assign them: from then on the buffer is ours.
    const mine = (x: tf.Variable) => this.owned.get(x) === x.dataId && bufferRefCount(x) === 1;
    const n = p.size;
    // The parameter always gets a NEW buffer (allocated by the backend, so no JS array per step): the wasm
    // backend caches per-tensor state keyed by buffer (XNNPACK's packed weights of a matmul/conv operand), so a
    // weight rewritten in place can be read stale — e.g. by a backward pass whose saved copy of the weight shares
    // its buffer (the zero-copy Identity). The moments are only ever read here, so they stay in place.
    const next = tf.zerosLike(p);
    // No allocation between taking these views and the end of the loop (it would detach wasm heap views).
    const gv = gradientValues(g);
    const [pIn, mIn, vIn, pOut] = [storageView(p), storageView(m), storageView(v), storageView(next)];
    if (!pIn || !mIn || !vIn || !pOut) {
      next.dispose();
      return false;
    }
    const mOut = mine(m) ? mIn : new Float32Array(n);
    const vOut = mine(v) ? vIn : new Float32Array(n);
    const c1 = 1 - b1, c2 = 1 - b2, inv = 1 / bc2Sqrt;
    for (let i = 0; i < n; i++) {
      const gi = gv[i]! * scale;
      const mi = b1 * mIn[i]! + c1 * gi;
      const vi = b2 * vIn[i]! + c2 * gi * gi;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = pIn[i]! * decayFactor - (stepSize * mi) / (Math.sqrt(vi) * inv + eps);
    }
    p.assign(next);
    next.dispose();
    for (const [x, out, view] of [[m, mOut, mIn], [v, vOut, vIn]] as const) {
      if (out === view) continue;
      const fresh = tf.tensor(out, x.shape, 'float32');
      x.assign(fresh);
      fresh.dispose();
      this.owned.set(x, x.dataId);
    }
    return true;
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
