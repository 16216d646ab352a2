// Worker module for the collectives tests: runs a fixed script of collectives on rank-dependent inputs.
import type { ThreadContext } from '../../src/index.js';
import { runScript } from '../script.js';

export function main(ctx: ThreadContext) {
  return runScript(ctx.group);
}
