// `duet serve`: the retrieval API (apps/retrieval-api) over a model folder, in this process.
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BUILTIN_INDEXES, startServer, type BuiltinIndex } from '@duet/retrieval-api';
import { int } from './options.js';

function builtin(v: string, prev: BuiltinIndex[] = []): BuiltinIndex[] {
  if (!(BUILTIN_INDEXES as readonly string[]).includes(v)) throw new InvalidArgumentError(`unknown built-in collection "${v}" (known: ${BUILTIN_INDEXES.join(', ')})`);
  return [...prev, v as BuiltinIndex];
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Serve the HTTP retrieval API (embeddings, zero-shot, persistent collections) over a model folder.')
    .requiredOption('--model <dir>', 'model folder with ONNX towers (duet export --onnx)')
    .option('--port <n>', 'port (0 = any free port)', int('--port', 0), 8080)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--data <dir>', 'collections directory (default: <model>/../duet-collections)')
    .option('--index <name>', `build a built-in collection at start (${BUILTIN_INDEXES.join(', ')}); repeatable`, builtin)
    .option('--index-limit <n>', 'only the first n images of built-in collections', int('--index-limit', 1))
    .option('--api-key <key>', 'bearer key required by write endpoints (or DUET_API_KEY)')
    .option('--cors <origin>', "allowed CORS origin ('*' for any); repeatable", (v: string, p: string[] = []) => [...p, v])
    .option('--rate <n>', 'requests per minute per client on /v1 (0 = no limit)', int('--rate', 0), 600)
    .option('--no-verify', 'skip the golden self-check before serving')
    .addHelpText('after', `
Endpoints: /healthz, /readyz, /metrics, /openapi.json, /v1/... (see apps/retrieval-api/README.md).
Examples:
  $ duet serve --model models/tiny-clip --index fashion-mnist-test
  $ curl -s localhost:8080/v1/collections/fashion-mnist-test/search -H 'content-type: application/json' -d '{"text":"a photo of a sneaker.","k":5}'`)
    .action(async (o: { model: string; port: number; host: string; data?: string; index?: BuiltinIndex[]; indexLimit?: number; apiKey?: string; cors?: string[]; rate: number; verify: boolean }) => {
      if (!existsSync(join(o.model, 'config.json'))) throw new Error(`--model ${o.model}: not a model folder (no config.json)`);
      const indexes = o.index ?? [];
      const srv = await startServer({
        modelDir: o.model, dataDir: o.data ?? join(dirname(resolve(o.model)), 'duet-collections'),
        apiKey: o.apiKey ?? process.env['DUET_API_KEY'], cors: o.cors?.includes('*') ? true : o.cors, port: o.port, host: o.host,
        rateLimit: o.rate === 0 ? false : { windowMs: 60_000, limit: o.rate }, verify: o.verify,
        builtinIndexes: indexes, builtin: { limit: o.indexLimit }, log: (m) => process.stderr.write(`${m}\n`),
      });
      process.stdout.write(`retrieval API: ${srv.url}\n`);
      const stopped = new Promise<void>((done) => {
        const stop = (): void => void srv.close().then(done, done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await srv.api.ready;
      process.stdout.write(srv.api.model.ready ? `ready: ${JSON.stringify(srv.api.model.info)}\n` : `not ready: ${srv.api.model.loadError}\n`);
      await srv.api.builtinsReady;
      if (indexes.length) process.stdout.write(`built-in collections ready: ${indexes.join(', ')}\n`);
      await stopped;
    });
}
