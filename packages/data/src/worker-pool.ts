// A small pool of worker threads running decode + transform jobs. Workers are unref'd while idle so an
// abandoned loader never keeps the process alive; a crashed worker fails its jobs (reported as skips) and is
// replaced. When running from TypeScript sources (tests, `npm run bench`) workers load tsx first.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { JobFailure, JobResult } from './sample-job.js';
import type { TransformInit } from './image-transform.js';
import type { ImageSource } from './types.js';

interface Pending { resolve: (r: JobResult | JobFailure) => void; worker: number }

const fromSource = import.meta.url.endsWith('.ts');

function spawn(transformModule: string, init: TransformInit): Worker {
  const workerData = { transformModule, init };
  if (!fromSource) return new Worker(new URL('./decode-worker.js', import.meta.url), { workerData });
  // Source mode: register tsx inside the worker, then import the .ts entry; resolve workspace packages from source.
  const req = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(req.resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./decode-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData, execArgv: ['--conditions=@duet/source'] });
}

/**
 * Structured clone copies a view's whole backing buffer (a Fashion-MNIST image is a 784-byte view of 47 MB), so
 * views are copied to their own buffer, which is then transferred rather than cloned again.
 */
export function compact(source: ImageSource): { message: ImageSource; transfer: ArrayBuffer[] } {
  if (source.kind === 'file') return { message: source, transfer: [] };
  const data = source.kind === 'raw' ? source.image.data : source.bytes;
  const own = new Uint8Array(data.byteLength);
  own.set(data);
  const message: ImageSource = source.kind === 'raw' ? { kind: 'raw', image: { ...source.image, data: own } } : { ...source, bytes: own };
  return { message, transfer: [own.buffer] };
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ready: Promise<void>[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(readonly size: number, private readonly transformModule: string, private readonly init: TransformInit) {
    for (let i = 0; i < size; i++) this.start(i);
  }

  private start(i: number): void {
    const w = spawn(this.transformModule, this.init);
    this.workers[i] = w;
    this.load[i] = 0;
    w.unref();
    this.ready[i] = new Promise<void>((resolve, reject) => {
      w.on('message', (m: { ready?: boolean; initError?: string; id?: number } & (JobResult | JobFailure)) => {
        if (m.ready) return resolve();
        if (m.initError) return reject(new Error(`loader worker: ${m.initError}`));
        const p = this.pending.get(m.id!);
        if (!p) return;
        this.pending.delete(m.id!);
        this.settle(p.worker);
        p.resolve(m.ok ? { ok: true, pixels: m.pixels, width: m.width, height: m.height } : { ok: false, error: m.error });
      });
      w.on('error', (e) => {
        reject(e);
        if (this.workers[i] === w) this.failWorker(i, `worker crashed: ${e.message}`);
      });
      w.on('exit', (code) => {
        reject(new Error(`loader worker exited with code ${code} before it was ready`));
        if (!this.closed && this.workers[i] === w) this.failWorker(i, `worker exited with code ${code}`);
      });
    });
    this.ready[i]!.catch(() => undefined); // surfaced through whenReady()
  }

  private failWorker(i: number, reason: string): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== i) continue;
      this.pending.delete(id);
      p.resolve({ ok: false, error: `transform failed: ${reason}` });
    }
    if (!this.closed) {
      void this.workers[i]?.terminate();
      this.start(i);
    }
  }

  private settle(i: number): void {
    this.load[i]!--;
    if (this.load[i] === 0) this.workers[i]?.unref();
  }

  /** Resolves when every worker loaded its transform; rejects with the first init error. */
  async whenReady(): Promise<void> {
    await Promise.all(this.ready);
  }

  run(source: ImageSource, seed: number): Promise<JobResult | JobFailure> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'transform failed: loader closed' });
    let best = 0;
    for (let i = 1; i < this.size; i++) if (this.load[i]! < this.load[best]!) best = i;
    const id = this.nextId++;
    const w = this.workers[best]!;
    if (this.load[best]!++ === 0) w.ref();
    const { message, transfer } = compact(source);
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, worker: best });
      w.postMessage({ id, source: message, seed }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.resolve({ ok: false, error: 'transform failed: loader closed' });
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
