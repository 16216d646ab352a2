import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTO_ORDER,
  BackendUnavailableError,
  chooseAuto,
  currentBackend,
  describeBackends,
  initBackend,
  resolveBackendRequest,
  tf,
  type BackendAvailability,
  type BackendName,
} from './index.js';

const avail = (backend: BackendName, available: boolean, autoEligible = available): BackendAvailability => ({
  backend,
  available,
  autoEligible,
  reason: `${backend} ${available ? 'here' : 'missing'}`,
});

describe('resolveBackendRequest: option > DUET_BACKEND > auto', () => {
  it('uses the option over the env', () => {
    expect(resolveBackendRequest('cpu', 'wasm')).toEqual({ request: 'cpu', source: 'option' });
  });
  it('uses the env when there is no option', () => {
    expect(resolveBackendRequest(undefined, 'webgpu')).toEqual({ request: 'webgpu', source: 'env' });
    expect(resolveBackendRequest(undefined, ' WASM ')).toEqual({ request: 'wasm', source: 'env' });
  });
  it("falls to auto without either, and an explicit 'auto' option overrides the env", () => {
    expect(resolveBackendRequest(undefined, undefined)).toEqual({ request: 'auto', source: 'auto' });
    expect(resolveBackendRequest('auto', 'cpu')).toEqual({ request: 'auto', source: 'auto' });
  });
  it('rejects unknown names, saying where they came from', () => {
    expect(() => resolveBackendRequest(undefined, 'cuda')).toThrow(/DUET_BACKEND: unknown backend "cuda", expected one of auto, tensorflow, webgpu, wasm, webgl, cpu/);
    expect(() => resolveBackendRequest('gpu' as never, undefined)).toThrow(/initBackend\(\{ backend \}\): unknown backend "gpu"/);
  });
});

describe('chooseAuto policy', () => {
  const node = AUTO_ORDER.node;
  it('prefers tensorflow, then a hardware webgpu adapter, then wasm in Node', () => {
    const all = new Map(node.map((b) => [b, avail(b, true)]));
    expect(chooseAuto(node, all).choice).toBe('tensorflow');
    all.set('tensorflow', avail('tensorflow', false));
    expect(chooseAuto(node, all)).toEqual({ choice: 'webgpu', skipped: ['tensorflow: tensorflow missing'] });
  });
  it('skips a software webgpu adapter (available but not auto-eligible) and says so', () => {
    const m = new Map([avail('tensorflow', false), avail('webgpu', true, false), avail('wasm', true), avail('cpu', true)].map((a) => [a.backend, a]));
    const r = chooseAuto(node, m);
    expect(r.choice).toBe('wasm');
    expect(r.skipped[1]).toMatch(/^webgpu: .*not picked automatically; ask for it explicitly/);
  });
  it('prefers webgpu > webgl > wasm in browsers', () => {
    const m = new Map([avail('webgpu', false), avail('webgl', true), avail('wasm', true)].map((a) => [a.backend, a]));
    expect(chooseAuto(AUTO_ORDER.browser, m).choice).toBe('webgl');
  });
  it('returns no choice when nothing is available', () => {
    expect(chooseAuto(['wasm'], new Map([['wasm', avail('wasm', false)]])).choice).toBeUndefined();
  });
});

describe('initBackend on this host', () => {
  const saved = process.env['DUET_BACKEND'];
  afterEach(() => {
    if (saved === undefined) delete process.env['DUET_BACKEND'];
    else process.env['DUET_BACKEND'] = saved;
  });

  it('honours the option, then DUET_BACKEND', async () => {
    process.env['DUET_BACKEND'] = 'cpu';
    expect(await initBackend()).toMatchObject({ backend: 'cpu', source: 'env', isGpu: false });
    expect(tf.getBackend()).toBe('cpu');
    const info = await initBackend({ backend: 'wasm' });
    expect(info).toMatchObject({ backend: 'wasm', source: 'option', isGpu: false });
    expect(info.device).toMatch(/^CPU \(WebAssembly, \d+ threads?/);
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toEqual(info);
  });

  it('auto picks the first auto-eligible backend that describeBackends reports, explaining what it skipped', async () => {
    delete process.env['DUET_BACKEND'];
    const described = await describeBackends();
    expect(described.map((d) => d.backend)).toEqual(['tensorflow', 'webgpu', 'wasm', 'webgl', 'cpu']);
    const expected = AUTO_ORDER.node.find((b) => described.find((d) => d.backend === b)!.autoEligible)!;
    const info = await initBackend();
    expect(info.source).toBe('auto');
    expect(info.backend).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    const skipped = AUTO_ORDER.node.slice(0, AUTO_ORDER.node.indexOf(expected));
    for (const b of skipped) expect(info.fallbackReason).toContain(`${b}: ${described.find((d) => d.backend === b)!.reason}`);
    if (!skipped.length) expect(info.fallbackReason).toBeUndefined();
  });

  it('an explicitly requested unavailable backend throws what is missing and how to get it, never falling back', async () => {
    await initBackend({ backend: 'cpu' });
    const unavailable = (await describeBackends()).filter((d) => !d.available);
    expect(unavailable.map((d) => d.backend)).toContain('webgl'); // no WebGL in Node, on any host
    for (const d of unavailable) {
      const err = await initBackend({ backend: d.backend }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as Error).message).toContain(`backend "${d.backend}" is not available: ${d.reason}`);
      if (d.hint) expect((err as Error).message).toContain(d.hint);
      expect(tf.getBackend()).toBe('cpu');
    }
  });

  it('serialises concurrent calls; the last one wins', async () => {
    const [a, b] = await Promise.all([initBackend({ backend: 'wasm' }), initBackend({ backend: 'cpu' })]);
    expect([a.backend, b.backend]).toEqual(['wasm', 'cpu']);
    expect(tf.getBackend()).toBe('cpu');
  });
});
