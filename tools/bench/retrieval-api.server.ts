// Child process of the retrieval API load test (retrieval-api.bench.ts): serves the model on loopback, so the
// memory the bench samples is the server's alone. Messages: { type: 'mem' } -> GC, then process.memoryUsage();
// { type: 'close' } -> stop. Env: DUET_MODEL, DUET_DATA, DUET_BATCHING ('on' | 'off').
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startServer } from '@duet/retrieval-api';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const batching = process.env['DUET_BATCHING'] === 'off' ? { waitMs: 0, maxBatch: 1 } : { waitMs: 5, maxBatch: 64 };
const srv = await startServer({ modelDir: process.env['DUET_MODEL']!, dataDir: process.env['DUET_DATA']!, rateLimit: false, batching });
await srv.api.ready;
if (!srv.api.model.ready) throw new Error(`model not ready: ${srv.api.model.loadError}`);
process.on('message', (m: { type: string }) => {
  if (m.type === 'mem') {
    gc();
    process.send!({ type: 'mem', mem: process.memoryUsage() });
  } else if (m.type === 'close') {
    void srv.close().then(() => process.exit(0));
  }
});
process.send!({ type: 'ready', url: srv.url, dim: srv.api.model.info!.dim });
