// Shared option parsers: numbers and choices validated at parse time so bad flags fail before any work.
import { InvalidArgumentError } from 'commander';

export function int(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

export function num(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}, got "${v}"`);
    return n;
  };
}

export const BACKENDS = ['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow', 'webgl'] as const;
