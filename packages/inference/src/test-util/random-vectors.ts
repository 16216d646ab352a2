// Deterministic test vectors for the retrieval tests.

/** [n, d] pseudo-random values in [-0.5, 0.5) from an LCG: no dependence on the code under test. */
export function randomVectors(n: number, d: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}
