// Two "machines" on this one: network namespaces joined by a veth pair (optionally rate-capped with tc tbf), and an
// mpirun launch across them without ssh: mpirun runs in namespace A and starts the remote daemon through an
// `ssh` replacement (plm_rsh_agent) that runs the command with `ip netns exec` in the namespace owning the host's
// address. Needs root (CI runs as root). Used by mpi-netns.test.ts and tools/bench/mpi-netns.bench.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTAINER_MCA } from './mpirun.js';

export interface NetnsPair {
  ns: [string, string];
  dev: [string, string];
  ip: [string, string];
  subnet: string;
  dir: string;
  /** Deletes both namespaces (and so the veth pair) and the temp files. Safe to call twice. */
  cleanup(): void;
}

/** Fails with a clear message unless this process can create network namespaces. */
export function requireNetnsRoot(): void {
  if (process.getuid?.() !== 0) throw new Error(`the two-namespace MPI test needs root (ip netns, veth, tc); it runs as uid ${process.getuid?.()}: run it as root (CI does)`);
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) throw new Error('the two-namespace MPI test needs iproute2 (`ip`, `tc`): apt-get install iproute2');
}

// Both "machines" share this machine's filesystem and host name, so Open MPI's shared-memory segments
// (/dev/shm/vader_segment.<host>.<job>.<local rank>) of the two would collide: each namespace gets a private
// /dev/shm (\`ip netns exec\` runs in its own mount namespace, so the mount stays there).
const PRIVATE_SHM = 'mount -t tmpfs -o size=1g duet-shm /dev/shm';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Deletes namespaces left by runs that were killed before their cleanup (their creator's pid is gone). */
function sweepStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of list.matchAll(/^(duet-(\d+)-\d+-[ab])\b/gm)) {
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) spawnSync('ip', ['netns', 'del', m[1]!], { stdio: 'ignore' });
  }
}

/** Creates namespaces duet-<pid>-<r>-a/b with 10.<x>.<y>.1/2 on a veth pair; `rateMbit` caps each direction with tc tbf. */
export function createNetnsPair(opts: { rateMbit?: number } = {}): NetnsPair {
  sweepStale();
  const r = Math.floor(Math.random() * 100);
  const ns: [string, string] = [`duet-${process.pid}-${r}-a`, `duet-${process.pid}-${r}-b`];
  const id = `${process.pid % 100000}${r}`;
  const dev: [string, string] = [`dv${id}a`, `dv${id}b`]; // interface names: at most 15 characters
  const x = 100 + (process.pid % 100);
  const y = Math.floor(Math.random() * 250);
  const ip: [string, string] = [`10.${x}.${y}.1`, `10.${x}.${y}.2`];
  const dir = mkdtempSync(join(tmpdir(), 'duet-netns-'));
  const pair: NetnsPair = {
    ns,
    dev,
    ip,
    subnet: `10.${x}.${y}.0/24`,
    dir,
    cleanup() {
      for (const n of ns) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const n of ns) sh('ip', ['netns', 'add', n]);
    sh('ip', ['link', 'add', dev[0], 'type', 'veth', 'peer', 'name', dev[1]]);
    for (const i of [0, 1]) {
      sh('ip', ['link', 'set', dev[i]!, 'netns', ns[i]!]);
      sh('ip', ['-n', ns[i]!, 'addr', 'add', `${ip[i]}/24`, 'dev', dev[i]!]);
      sh('ip', ['-n', ns[i]!, 'link', 'set', dev[i]!, 'up']);
      sh('ip', ['-n', ns[i]!, 'link', 'set', 'lo', 'up']);
    }
    if (opts.rateMbit) setRate(pair, opts.rateMbit);
    // mpirun's "ssh": skip ssh-style options, map the host address to its namespace, run the command there.
    const agent = join(dir, 'netns-agent.sh');
    writeFileSync(
      agent,
      `#!/bin/sh\nwhile [ "\${1#-}" != "$1" ]; do shift; done\nhost=$1; shift\ncase "$host" in\n  ${ip[0]}) ns=${ns[0]};;\n  ${ip[1]}) ns=${ns[1]};;\n  *) echo "netns agent: unknown host $host" >&2; exit 1;;\nesac\nexec ip netns exec "$ns" sh -c "${PRIVATE_SHM} && exec $*"\n`,
    );
    chmodSync(agent, 0o755);
    writeFileSync(join(dir, 'hostfile'), `${ip[0]} slots=2\n${ip[1]} slots=2\n`);
  } catch (e) {
    pair.cleanup();
    throw new Error(`setting up network namespaces failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
  }
  return pair;
}

/**
 * The mpirun command line for n ranks across the pair: `perNs` ranks in each namespace (ranks 0..perNs−1 in A),
 * TCP only between namespaces, and shared memory (vader) between ranks of one namespace when `shm`.
 */
export function netnsLauncher(pair: NetnsPair, n: number, opts: { shm?: boolean } = {}): string[] {
  const perNs = Math.ceil(n / 2);
  return [
    'ip', 'netns', 'exec', pair.ns[0], 'sh', '-c', `${PRIVATE_SHM} && exec "$0" "$@"`, 'mpirun', '-n', String(n), '--hostfile', join(pair.dir, 'hostfile'),
    '--map-by', `ppr:${perNs}:node`,
    '--mca', 'plm_rsh_agent', join(pair.dir, 'netns-agent.sh'),
    '--mca', 'oob_tcp_if_include', pair.subnet,
    '--mca', 'btl', opts.shm ? 'self,vader,tcp' : 'self,tcp',
    '--mca', 'btl_tcp_if_include', pair.subnet,
    ...CONTAINER_MCA,
  ];
}

/** Caps both directions of the link at `mbit` with tc tbf, or removes the cap (null). */
export function setRate(pair: NetnsPair, mbit: number | null): void {
  for (const i of [0, 1] as const) {
    if (mbit === null) spawnSync('tc', ['-n', pair.ns[i], 'qdisc', 'del', 'dev', pair.dev[i], 'root'], { stdio: 'ignore' });
    else sh('tc', ['-n', pair.ns[i], 'qdisc', 'replace', 'dev', pair.dev[i], 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '256kb', 'latency', '100ms']);
  }
}

/** Bytes sent so far on each namespace's veth end. */
export function wireTxBytes(pair: NetnsPair): [number, number] {
  const tx = (i: 0 | 1) => {
    const j = JSON.parse(sh('ip', ['-s', '-j', '-n', pair.ns[i], 'link', 'show', 'dev', pair.dev[i]])) as { stats64: { tx: { bytes: number } } }[];
    return j[0]!.stats64.tx.bytes;
  };
  return [tx(0), tx(1)];
}
