// Parameter specifications: every tensor of a model as { HF name, shape, reference initialiser }. The same list
// drives seeded initialisation, strict loading (missing/extra/mis-shaped tensors) and parameter counting.
import type { Rng } from '@duet/runtime';

export type Init = (n: number, rng: Rng) => Float32Array;

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** false for buffers (BatchNorm running statistics): saved and loaded, never trained. */
  trainable: boolean;
  /** Duet-added parameter a checkpoint may lack (e.g. a SigLIP bias on an HF CLIP model): initialised when absent. */
  initIfMissing?: boolean;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const zeros: Init = (n) => new Float32Array(n);
export const ones: Init = (n) => new Float32Array(n).fill(1);
export const constant = (v: number): Init => (n) => new Float32Array(n).fill(v);

/** torch.nn.init.normal_(std). */
export const normal = (std: number): Init => (n, rng) => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
  return out;
};

/** torch.nn.init.uniform_(-limit, limit). */
export const uniform = (limit: number): Init => (n, rng) => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
  return out;
};

/** torch fan computation (_calculate_fan_in_and_fan_out) for a torch-layout weight. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = numel(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** torch.nn.init.xavier_uniform_. */
export const xavierUniform = (shape: readonly number[]): Init => {
  const { fanIn, fanOut } = fans(shape);
  return uniform(Math.sqrt(6 / (fanIn + fanOut)));
};

/** HF SigLIP lecun_normal_: truncated normal (±2 std) with variance 1/fan_in, std corrected for truncation. */
export const lecunNormal = (shape: readonly number[]): Init => (n, rng) => {
  const std = Math.sqrt(1 / fans(shape).fanIn) / 0.87962566103423978;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = rng.normal(0, 1);
    while (v < -2 || v > 2);
    out[i] = v * std;
  }
  return out;
};

/** torch's default Conv2d/Linear weight init (kaiming_uniform_(a=sqrt(5))) = U(±1/sqrt(fan_in)); same bound for biases. */
export const torchDefault = (fanIn: number): Init => uniform(1 / Math.sqrt(fanIn));

export class SpecBuilder {
  readonly specs: ParamSpec[] = [];
  add(name: string, shape: number[], init: Init, trainable = true, initIfMissing = false): this {
    this.specs.push({ name, shape, init, trainable, ...(initIfMissing ? { initIfMissing } : {}) });
    return this;
  }
}
