// Environment detection shared by backend selection (no node:* imports: this file is isomorphic).

/** True under Node.js (or a Node-compatible runtime), false in browsers and workers. */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/** Reads an environment variable in Node; undefined in browsers. */
export function readEnv(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.[name];
  return v === undefined || v === '' ? undefined : v;
}
