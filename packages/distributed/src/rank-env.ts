// Rank discovery from launcher environment variables, so one command runs under torchrun-style launchers
// (and Kubernetes Indexed Jobs / PyTorchJob), mpirun (Open MPI) and Slurm's srun.
export type RankSource = 'torchrun' | 'openmpi' | 'slurm' | 'single';

export interface RankInfo {
  rank: number;
  worldSize: number;
  /** Rank within this machine (device/thread placement). */
  localRank: number;
  /** Which launcher's variables were used ('single' when none were set). */
  source: RankSource;
  /** Rendezvous address/port (torchrun's MASTER_ADDR/MASTER_PORT) when set. */
  masterAddr?: string;
  masterPort?: number;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, min: number): number {
  const raw = env[name]!;
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isInteger(v) || v < min) throw new Error(`discoverRank: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

function build(env: Env, source: RankSource, rankVar: string, sizeVar: string, localVars: string[]): RankInfo {
  if (env[sizeVar] === undefined) throw new Error(`discoverRank: ${rankVar} is set but ${sizeVar} is not (both are needed)`);
  const rank = int(env, rankVar, 0);
  const worldSize = int(env, sizeVar, 1);
  if (rank >= worldSize) throw new Error(`discoverRank: ${rankVar}=${rank} must be < ${sizeVar}=${worldSize}`);
  const localVar = localVars.find((n) => env[n] !== undefined);
  const localRank = localVar ? int(env, localVar, 0) : rank;
  const info: RankInfo = { rank, worldSize, localRank, source };
  if (env['MASTER_ADDR']) info.masterAddr = env['MASTER_ADDR'];
  if (env['MASTER_PORT'] !== undefined) {
    const port = int(env, 'MASTER_PORT', 1);
    if (port > 65535) throw new Error(`discoverRank: MASTER_PORT must be ≤ 65535, got ${port}`);
    info.masterPort = port;
  }
  return info;
}

/**
 * Reads rank and world size from the environment. Precedence: torchrun-style (RANK/WORLD_SIZE/LOCAL_RANK),
 * then Open MPI (OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK), then Slurm (SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID);
 * none set means a single process (rank 0 of 1). Inconsistent or malformed values throw naming the variable.
 */
export function discoverRank(env: Env = process.env): RankInfo {
  if (env['RANK'] !== undefined || env['WORLD_SIZE'] !== undefined) {
    if (env['RANK'] === undefined) throw new Error('discoverRank: WORLD_SIZE is set but RANK is not (both are needed)');
    return build(env, 'torchrun', 'RANK', 'WORLD_SIZE', ['LOCAL_RANK']);
  }
  if (env['OMPI_COMM_WORLD_RANK'] !== undefined) return build(env, 'openmpi', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', ['OMPI_COMM_WORLD_LOCAL_RANK']);
  if (env['SLURM_PROCID'] !== undefined) return build(env, 'slurm', 'SLURM_PROCID', 'SLURM_NTASKS', ['SLURM_LOCALID']);
  return { rank: 0, worldSize: 1, localRank: 0, source: 'single' };
}
