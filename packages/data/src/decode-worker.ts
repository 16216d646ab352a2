// Worker-thread entry of the loader pool: loads the transform module once, then decodes and transforms jobs.
import { parentPort, workerData } from 'node:worker_threads';
import { runSampleJob } from './sample-job.js';
import type { SampleTransform, TransformInit } from './image-transform.js';
import type { ImageSource } from './types.js';

interface Job { id: number; source: ImageSource; seed: number }
const port = parentPort!;
const data = workerData as { transformModule: string; init: TransformInit };

try {
  const mod = (await import(data.transformModule)) as { createTransform?: (init: TransformInit) => Promise<SampleTransform> };
  if (typeof mod.createTransform !== 'function') throw new Error(`${data.transformModule} does not export createTransform`);
  const transform = await mod.createTransform(data.init);
  port.on('message', (job: Job) => {
    void runSampleJob(job.source, job.seed, transform).then((r) => {
      if (!r.ok) return port.postMessage({ id: job.id, ...r });
      // Transfer only a buffer the view owns completely.
      const px = r.pixels.byteOffset === 0 && r.pixels.byteLength === r.pixels.buffer.byteLength ? r.pixels : r.pixels.slice();
      port.postMessage({ id: job.id, ...r, pixels: px }, [px.buffer as ArrayBuffer]);
    });
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ initError: e instanceof Error ? e.message : String(e) });
}
