// Shared assertion of the distributed-loss tests (threads and mpi); test processes only (imports vitest).
import { expect } from 'vitest';

/** max|actual − expected| / max|expected| ≤ tol (lengths equal). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
  }
  expect(err / scale, what).toBeLessThanOrEqual(tol);
}
