// Seeded randomness: xoshiro128** (Blackman & Vigna) seeded through splitmix32. Pure 32-bit integer
// arithmetic, so a seed gives the same stream in every JS engine, process and backend; the whole state
// (including the cached Box–Muller spare) is JSON, for checkpoint/resume.

export interface RngState {
  algorithm: 'xoshiro128**';
  /** Four uint32 words. */
  s: [number, number, number, number];
  /** Second Box–Muller normal, if one is cached. */
  spare: number | null;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a 32-bit: stable label hashing for fork(). */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  private constructor(s: readonly number[]) {
    [this.s0, this.s1, this.s2, this.s3] = s.map((v) => v >>> 0) as [number, number, number, number];
  }

  /** Seeds from any safe integer (both 32-bit halves are mixed in) or a string. */
  static fromSeed(seed: number | string): Rng {
    let lo: number;
    let hi: number;
    if (typeof seed === 'string') {
      lo = hashLabel(seed);
      hi = hashLabel(`\u0000${seed}`);
    } else {
      if (!Number.isSafeInteger(seed)) throw new Error(`createRng: seed must be a safe integer or a string, got ${seed}`);
      lo = seed >>> 0; // two's complement for negatives
      hi = Math.floor(seed / 2 ** 32) >>> 0;
    }
    const a = splitmix32(lo);
    const b = splitmix32(hi ^ 0x6a09e667);
    const s: number[] = [a() ^ b(), a() ^ b(), a() ^ b(), a() ^ b()].map((v) => v >>> 0);
    if (!s.some((v) => v !== 0)) s[0] = 1; // the all-zero state is a fixed point
    return new Rng(s);
  }

  /** Restores a generator from state(); validates it. */
  static fromState(state: RngState): Rng {
    const s = state?.s;
    if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(s) || s.length !== 4 || !s.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
      throw new Error(`Rng.fromState: expected { algorithm: 'xoshiro128**', s: [4 x uint32], spare }, got ${JSON.stringify(state)}`);
    }
    if (s.every((v) => v === 0)) throw new Error('Rng.fromState: the all-zero state is invalid for xoshiro128**');
    const r = new Rng(s);
    if (state.spare !== null && state.spare !== undefined) {
      if (typeof state.spare !== 'number' || !Number.isFinite(state.spare)) throw new Error(`Rng.fromState: spare must be a finite number or null, got ${state.spare}`);
      r.spare = state.spare;
    }
    return r;
  }

  /** Next uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n must be a positive integer <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n); // largest multiple of n
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Box–Muller; the second value is cached and part of the state). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    const u1 = 1 - this.next(); // (0, 1]: log is finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /**
   * An independent generator derived from this one's current state and `label`, without advancing this one:
   * `rng.fork('data')` and `rng.fork('init')` are different streams, and the same label at the same state
   * gives the same stream (so forks are reproducible after resume).
   */
  fork(label: string): Rng {
    const h = hashLabel(label);
    const mix = splitmix32((this.s0 ^ Math.imul(h, 0x9e3779b1)) >>> 0);
    const mix2 = splitmix32((this.s1 ^ this.s2 ^ this.s3 ^ h) >>> 0);
    const s: number[] = [mix() ^ mix2(), mix() ^ mix2() ^ this.s2, mix() ^ mix2() ^ this.s3, mix() ^ mix2() ^ this.s1].map((v) => v >>> 0);
    if (!s.some((v) => v !== 0)) s[0] = 1;
    return new Rng(s);
  }

  /** JSON-serialisable snapshot; Rng.fromState(state) continues the exact same stream. */
  state(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }
}

/** A seeded generator (see Rng). */
export function createRng(seed: number | string): Rng {
  return Rng.fromSeed(seed);
}
