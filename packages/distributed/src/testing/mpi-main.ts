// Entry run by mpirun in the tests and benchmarks: `node [--conditions=@duet/source --import tsx] mpi-main.ts
// <module URL> <args JSON>`. It gives the module's main the same context launchThreads does (with the mpi group) and
// writes the rank's result to $DUET_RESULT_DIR/rank-<r>.json (typed arrays as plain arrays; files, because
// mpirun interleaves long stdout lines of different ranks).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMpiGroup } from '../mpi.js';
import type { ThreadMain } from '../thread-context.js';

const [moduleUrl, argsJson = 'null'] = process.argv.slice(2);
const timeoutMs = Number(process.env['DUET_MPI_TIMEOUT_MS'] ?? 60_000);
const group = await createMpiGroup({ timeoutMs });
const mod = (await import(moduleUrl!)) as { main?: ThreadMain; default?: ThreadMain };
const main = (mod.main ?? mod.default)!;
const value = await main({ group, rank: group.rank, worldSize: group.worldSize, args: JSON.parse(argsJson) as unknown });
const json = JSON.stringify(value, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
writeFileSync(join(process.env['DUET_RESULT_DIR']!, `rank-${group.rank}.json`), json);
