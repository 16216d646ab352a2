// The mpi group across two "machines": network namespaces joined by a veth pair capped with tc tbf, mpirun across
// them without ssh (@duet/distributed/testing). Per distributed loss step (forward + backward w.r.t. embeds,
// wasm): time, the bytes each rank's group counts (= the ring cost model), and the bytes that really crossed the
// link (veth tx counters, both directions, barriers included) — CLIP all-gather vs SigLIP ring.
// `npm run bench mpi-netns` as root.  Env: DUET_BENCH_RATE_MBIT (100), DUET_BENCH_BATCH (local batch, 256),
// DUET_BENCH_DIM (512), DUET_BENCH_STEPS (5), DUET_BENCH_WORLDS (2,4; world 4 = two ranks per namespace, which
// talk over shared memory inside a namespace).
import { clipCommBytes, siglipCommBytes } from '@duet/losses';
import { createNetnsPair, netnsLauncher, requireMpi, requireNetnsRoot, runMpi, setRate } from '@duet/distributed/testing';
import { printTable, writeResult, type Row } from './report.ts';
import type { NetnsBenchArgs, NetnsBenchOut, OverlapOut } from './mpi-netns.worker.ts';

const WORKER = new URL('./mpi-netns.worker.ts', import.meta.url);
const rateMbit = Number(process.env['DUET_BENCH_RATE_MBIT'] ?? 100);
const localBatch = Number(process.env['DUET_BENCH_BATCH'] ?? 256);
const dim = Number(process.env['DUET_BENCH_DIM'] ?? 512);
const steps = Number(process.env['DUET_BENCH_STEPS'] ?? 5);
const worlds = (process.env['DUET_BENCH_WORLDS'] ?? '2,4').split(',').map(Number);

requireMpi();
requireNetnsRoot();
const rows: Row[] = [];
const overlapRows: Row[] = [];
const pair = createNetnsPair({ rateMbit });
try {
  for (const w of worlds) {
    const args: NetnsBenchArgs = { families: ['clip', 'siglip'], localBatch, dim, steps };
    const launch = async (mbit: number | null) => {
      setRate(pair, mbit);
      const run = await runMpi<NetnsBenchOut[]>(w, WORKER, args, { launcher: netnsLauncher(pair, w, { shm: true }), timeoutMs: 600_000, env: { DUET_MPI_TIMEOUT_MS: '300000' } });
      if (run.code !== 0 || run.results.length !== w) throw new Error(`mpirun -n ${w} across the namespaces failed (exit ${run.code}):\n${run.stderr}`);
      return run.results;
    };
    const free = await launch(null); // the same steps on an uncapped veth: compute + local overheads
    const capped = await launch(rateMbit);
    args.families.forEach((family, k) => {
      const perRank = capped.map((r) => r[k]!);
      const wire = new Map(perRank.map((r) => [r.iface, r.ifaceTxBytes])); // ranks of one namespace share its veth end
      const wireBytes = [...wire.values()].reduce((a, b) => a + b, 0) / steps;
      const model = (family === 'clip' ? clipCommBytes : siglipCommBytes)({ worldSize: w, localBatch, dim });
      // A ring puts one rank's traffic on each direction of the link (ranks 0..w/2−1 in A, the rest in B).
      const linkBoundMs = ((model * 8) / (rateMbit * 1e6)) * 1000;
      const slowest = (rs: NetnsBenchOut[][]) => Math.max(...rs.map((r) => r[k]!.msPerStep)); // median step of the slowest rank
      rows.push({
        loss: family === 'clip' ? 'CLIP all-gather' : 'SigLIP ring',
        worldSize: w,
        ranksPerNamespace: Math.ceil(w / 2),
        globalBatch: localBatch * w,
        dim,
        'ms/step uncapped': +slowest(free).toFixed(1),
        [`ms/step at ${rateMbit} Mbit/s`]: +slowest(capped).toFixed(1),
        'link-bound ms (model bytes / rate)': +linkBoundMs.toFixed(1),
        'bytesSent/rank/step (group)': Math.max(...perRank.map((r) => r.bytesSentPerStep)),
        'cost model bytes/rank': model,
        'wire bytes/step (both directions)': Math.round(wireBytes),
        'wire / (2 × model)': +(wireBytes / (2 * model)).toFixed(2),
      });
      process.stdout.write('.');
    });
  }
  // Overlap: an all-reduce at the capped rate alone, compute alone, and both at once (world 2).
  setRate(pair, rateMbit);
  const o = { floats: Number(process.env['DUET_BENCH_OVERLAP_FLOATS'] ?? 1 << 21), matmuls: Number(process.env['DUET_BENCH_OVERLAP_MATMULS'] ?? 40), size: 512 };
  const ov = await runMpi<OverlapOut>(2, WORKER, { families: [], localBatch, dim, steps, overlap: o } satisfies NetnsBenchArgs, { launcher: netnsLauncher(pair, 2), timeoutMs: 600_000 });
  if (ov.code !== 0 || ov.results.length !== 2) throw new Error(`overlap run failed (exit ${ov.code}):\n${ov.stderr}`);
  const slow = (k: keyof OverlapOut) => Math.max(...ov.results.map((r) => r[k]));
  const [comm, comp, both] = [slow('commMs'), slow('computeMs'), slow('bothMs')];
  overlapRows.push({
    'all-reduce MiB': +((o.floats * 4) / 2 ** 20).toFixed(1),
    [`all-reduce alone ms (${rateMbit} Mbit/s)`]: +comm.toFixed(1),
    [`${o.matmuls}× matmul ${o.size}² alone ms`]: +comp.toFixed(1),
    'both at once ms': +both.toFixed(1),
    'sequential ms': +(comm + comp).toFixed(1),
    'hidden (of the shorter)': +((comm + comp - both) / Math.min(comm, comp)).toFixed(2),
  });
} finally {
  pair.cleanup();
}
printTable(`mpi group across two network namespaces, veth capped at ${rateMbit} Mbit/s per direction (tc tbf), local batch ${localBatch}, dim ${dim}, ${steps} steps`, rows);
printTable('overlap: the all-reduce runs on the binding\'s thread while the JS thread computes (world 2, one rank per namespace, slowest rank)', overlapRows);
writeResult('mpi-netns', { rateMbit, localBatch, dim, steps, rows, overlap: overlapRows });
