// Backend selection: option > DUET_BACKEND > auto (best available). Explicit requests never fall back.
//
// Design: this module is isomorphic. Browser-safe providers (webgpu via navigator.gpu, webgl, wasm, cpu) are
// registered here; in Node the first call loads ./backends-node.js (tfjs-node[-gpu], Dawn WebGPU) with a dynamic
// import whose specifier is a runtime string, so browser bundlers never follow it into node:* / native modules.
import * as tf from '@tensorflow/tfjs';
import { browserWebGpuProvider, cpuProvider, wasmProvider, webglProvider } from './backends-web.js';
import { isNode, readEnv } from './env.js';
import { BackendUnavailableError } from './errors.js';
import {
  BACKEND_NAMES,
  type BackendAvailability,
  type BackendInfo,
  type BackendName,
  type BackendProvider,
  type BackendRequest,
} from './types.js';

export interface InitBackendOptions {
  /** Backend to use; defaults to DUET_BACKEND, then 'auto'. */
  backend?: BackendRequest;
}

/** Preference order for 'auto'. cpu is the last resort (the JS reference kernels are ~50x slower than wasm). */
export const AUTO_ORDER: Record<'node' | 'browser', readonly BackendName[]> = {
  node: ['tensorflow', 'webgpu', 'wasm', 'cpu'],
  browser: ['webgpu', 'webgl', 'wasm', 'cpu'],
};

const providers = new Map<BackendName, BackendProvider>(
  [browserWebGpuProvider, webglProvider, wasmProvider, cpuProvider].map((p) => [p.name, p]),
);
let platformReady: Promise<void> | undefined;
let nodeLoadError: string | undefined;
let queue: Promise<unknown> = Promise.resolve();
let current: BackendInfo | undefined;

/** Replaces the provider for one backend (Node registers tfjs-node and Dawn WebGPU this way). */
export function registerBackendProvider(provider: BackendProvider): void {
  providers.set(provider.name, provider);
}

/**
 * In Node, loads the Node providers once (see the design note at the top). Skipped when `@duet/runtime/node`
 * already registered them (needed when a bundler inlines this file and cannot follow the runtime import).
 */
export function ensurePlatformProviders(): Promise<void> {
  if (!isNode() || providers.has('tensorflow')) return Promise.resolve();
  platformReady ??= (async () => {
    const spec = './backends-node.js';
    try {
      const mod = (await import(/* @vite-ignore */ spec)) as typeof import('./backends-node.js');
      mod.registerNodeBackends();
    } catch (e) {
      nodeLoadError = `the Node backends (tfjs-node, Dawn WebGPU) could not be loaded (${(e as Error).message.split('\n')[0]}); import '@duet/runtime/node' once at startup`;
    }
  })();
  return platformReady;
}

/** Resolves the request from the option, then DUET_BACKEND, then 'auto'; rejects unknown names clearly. */
export function resolveBackendRequest(
  option: string | undefined,
  env: string | undefined = readEnv('DUET_BACKEND'),
): { request: BackendRequest; source: BackendInfo['source'] } {
  const check = (v: string, where: string): BackendRequest => {
    const n = v.trim().toLowerCase();
    if (n === 'auto' || (BACKEND_NAMES as readonly string[]).includes(n)) return n as BackendRequest;
    throw new Error(`${where}: unknown backend "${v}", expected one of auto, ${BACKEND_NAMES.join(', ')}`);
  };
  if (option !== undefined && option !== 'auto') return { request: check(option, 'initBackend({ backend })'), source: 'option' };
  if (option === undefined && env !== undefined) {
    const request = check(env, 'DUET_BACKEND');
    if (request !== 'auto') return { request, source: 'env' };
  }
  return { request: 'auto', source: 'auto' };
}

/**
 * Picks the first auto-eligible backend in `order`; `skipped` explains each one passed over.
 * Pure, so the policy is testable with synthetic availabilities.
 */
export function chooseAuto(
  order: readonly BackendName[],
  availability: ReadonlyMap<BackendName, BackendAvailability>,
): { choice?: BackendName; skipped: string[] } {
  const skipped: string[] = [];
  for (const name of order) {
    const a = availability.get(name);
    if (!a) continue;
    if (a.available && a.autoEligible) return { choice: name, skipped };
    skipped.push(`${name}: ${a.reason}${a.available ? ' (not picked automatically; ask for it explicitly)' : ''}`);
  }
  return { skipped };
}

function platform(): 'node' | 'browser' {
  return isNode() ? 'node' : 'browser';
}

/** Initialises and activates a TensorFlow.js backend; see InitBackendOptions. Calls are serialised. */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const run = queue.then(() => initBackendNow(opts));
  queue = run.catch(() => undefined);
  return run;
}

async function initBackendNow(opts: InitBackendOptions): Promise<BackendInfo> {
  await ensurePlatformProviders();
  const { request, source } = resolveBackendRequest(opts.backend);
  if (request !== 'auto') {
    const p = providers.get(request);
    if (!p) throw new BackendUnavailableError(request, nodeLoadError ?? `no provider on this platform (${platform()})`);
    current = { ...(await p.init()), source };
    return current;
  }
  const skipped: string[] = [];
  let remaining = [...AUTO_ORDER[platform()]];
  while (remaining.length) {
    const availability = new Map<BackendName, BackendAvailability>();
    for (const name of remaining) {
      const p = providers.get(name);
      if (p) availability.set(name, await p.probe());
      if (p && availability.get(name)!.available && availability.get(name)!.autoEligible) break; // no need to probe worse ones
    }
    const { choice, skipped: why } = chooseAuto(remaining, availability);
    skipped.push(...why);
    if (!choice) break;
    try {
      const info = await providers.get(choice)!.init();
      const reasons = [...skipped, ...(info.fallbackReason ? [info.fallbackReason] : [])];
      current = { ...info, source: 'auto', ...(reasons.length ? { fallbackReason: reasons.join('; ') } : {}) };
      return current;
    } catch (e) {
      skipped.push(`${choice}: ${e instanceof BackendUnavailableError ? e.reason : (e as Error).message}`);
      remaining = remaining.slice(remaining.indexOf(choice) + 1);
      continue;
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${skipped.join('; ')}`);
}

/** Availability of every backend on this platform, with reasons (used by `duet info`). Does not switch backends. */
export async function describeBackends(): Promise<BackendAvailability[]> {
  await ensurePlatformProviders();
  const out: BackendAvailability[] = [];
  for (const name of BACKEND_NAMES) {
    const p = providers.get(name);
    out.push(p ? await p.probe() : { backend: name, available: false, autoEligible: false, reason: nodeLoadError ?? `no provider on ${platform()}` });
  }
  return out;
}

/** The BackendInfo of the last successful initBackend, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current && tf.getBackend() === current.backend ? current : undefined;
}
