// Small seeded PRNG (sfc32) with a JSON state, plus integer hashing to derive independent streams
// (per epoch, per sample) so results never depend on worker scheduling or prefetch depth.
// Kept local so the data pipeline's reproducibility does not hinge on another package's RNG format.

export interface DataRngState { a: number; b: number; c: number; d: number }

/** 32-bit avalanche mix (murmur3 finaliser). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes integers (or strings) into one 32-bit seed; order matters. */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (typeof p === 'string') {
      for (let i = 0; i < p.length; i++) h = fmix(h ^ Math.imul(p.charCodeAt(i), 0xcc9e2d51));
      h = fmix(h ^ p.length);
    } else {
      // Split into two 32-bit halves so large offsets (> 2^32) stay distinct.
      const lo = p >>> 0;
      const hi = Math.floor(p / 4294967296) >>> 0;
      h = fmix(h ^ Math.imul(lo, 0xcc9e2d51));
      h = fmix(h ^ Math.imul(hi ^ 0x1b873593, 0xcc9e2d51));
    }
  }
  return h;
}

export class DataRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = hashSeed(seed, 1);
    this.b = hashSeed(seed, 2);
    this.c = hashSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  static fromState(s: DataRngState): DataRng {
    for (const k of ['a', 'b', 'c', 'd'] as const) {
      if (!Number.isInteger(s?.[k]) || s[k] < 0 || s[k] > 0xffffffff) throw new Error(`DataRng state: expected {a,b,c,d} uint32, got ${JSON.stringify(s)}`);
    }
    const r = new DataRng(0);
    r.a = s.a; r.b = s.b; r.c = s.c; r.d = s.d;
    return r;
  }

  state(): DataRngState {
    return { a: this.a, b: this.b, c: this.c, d: this.d };
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** In-place Fisher–Yates shuffle; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!; a[i] = a[j]!; a[j] = t;
    }
    return a;
  }
}
