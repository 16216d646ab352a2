// CLI: node --conditions=@duet/source --import tsx apps/retrieval-api/src/main.ts --model DIR [--port N] ...
import { parseArgs } from 'node:util';
import { BUILTIN_INDEXES, type BuiltinIndex } from './builtin.js';
import { startServer } from './server.js';

const HELP = `duet-serve --model DIR [--port 8080] [--host 127.0.0.1] [--data DIR] [--api-key KEY] [--cors ORIGIN|*] [--no-verify]
  --model    model folder with onnx/ towers (duet export --onnx)
  --data     collections directory (default <model>/../duet-collections)
  --api-key  bearer key for write endpoints (or DUET_API_KEY)
  --cors     allowed origin ('*' for any; repeat for several)
  --rate     requests per minute per client on /v1 (default 600; 0 disables)
  --index    built-in collection to build at start: fashion-mnist-test (Fashion-MNIST test images)
  --index-limit N  only the first N images of built-in collections`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string' }, 'api-key': { type: 'string' }, cors: { type: 'string', multiple: true },
      'no-verify': { type: 'boolean', default: false }, index: { type: 'string', multiple: true }, 'index-limit': { type: 'string' }, rate: { type: 'string', default: '600' }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.model) {
    console.log(HELP);
    process.exit(values.help ? 0 : 2);
  }
  const port = Number(values.port);
  const rate = Number(values.rate);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0-65535, got ${values.port}`);
  if (!Number.isInteger(rate) || rate < 0) throw new Error(`--rate: expected a non-negative integer, got ${values.rate}`);
  const indexes = values.index ?? [];
  const unknown = indexes.filter((i) => !(BUILTIN_INDEXES as readonly string[]).includes(i));
  if (unknown.length) throw new Error(`--index: unknown built-in collection ${unknown.join(', ')} (known: ${BUILTIN_INDEXES.join(', ')})`);
  const limit = values['index-limit'] === undefined ? undefined : Number(values['index-limit']);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new Error(`--index-limit: expected a positive integer, got ${values['index-limit']}`);
  const cors = values.cors?.includes('*') ? true : values.cors;
  const srv = await startServer({
    modelDir: values.model, dataDir: values.data ?? `${values.model.replace(/[\\/]+$/, '')}/../duet-collections`,
    apiKey: values['api-key'] ?? process.env['DUET_API_KEY'], cors, port, host: values.host,
    rateLimit: rate === 0 ? false : { windowMs: 60_000, limit: rate }, verify: !values['no-verify'],
    builtinIndexes: indexes as BuiltinIndex[], builtin: { limit },
    log: (m) => console.error(m),
  });
  console.log(`listening on ${srv.url}`);
  await srv.api.ready;
  console.log(srv.api.model.ready ? `ready: ${JSON.stringify(srv.api.model.info)}` : `not ready: ${srv.api.model.loadError}`);
  await srv.api.builtinsReady;
  if (indexes.length) console.log(`built-in collections ready: ${indexes.join(', ')}`);
  const stop = (): void => {
    srv.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
