import { describe, expect, it } from 'vitest';
import { discoverRank } from './index.js';

describe('discoverRank', () => {
  it('no launcher variables: a single process', () => {
    expect(discoverRank({})).toEqual({ rank: 0, worldSize: 1, localRank: 0, source: 'single' });
  });

  it('torchrun / Kubernetes style: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT', () => {
    expect(discoverRank({ RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', MASTER_ADDR: 'duet-0.duet', MASTER_PORT: '29500' })).toEqual({
      rank: 3,
      worldSize: 4,
      localRank: 1,
      source: 'torchrun',
      masterAddr: 'duet-0.duet',
      masterPort: 29500,
    });
    expect(discoverRank({ RANK: '2', WORLD_SIZE: '4' })).toMatchObject({ rank: 2, localRank: 2, source: 'torchrun' });
  });

  it('Open MPI (mpirun): OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK', () => {
    expect(discoverRank({ OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_LOCAL_RANK: '0' })).toEqual({ rank: 1, worldSize: 2, localRank: 0, source: 'openmpi' });
  });

  it('Slurm (srun): SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID', () => {
    expect(discoverRank({ SLURM_PROCID: '5', SLURM_NTASKS: '8', SLURM_LOCALID: '1' })).toEqual({ rank: 5, worldSize: 8, localRank: 1, source: 'slurm' });
  });

  it('precedence: explicit RANK/WORLD_SIZE over Open MPI over Slurm (mpirun inside an allocation)', () => {
    expect(discoverRank({ RANK: '0', WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2' }).source).toBe('torchrun');
    expect(discoverRank({ OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2', SLURM_PROCID: '0', SLURM_NTASKS: '1' })).toMatchObject({ source: 'openmpi', rank: 1 });
  });

  it('malformed or inconsistent values throw naming the variable', () => {
    expect(() => discoverRank({ RANK: '1' })).toThrow(/RANK is set but WORLD_SIZE is not/);
    expect(() => discoverRank({ WORLD_SIZE: '2' })).toThrow(/WORLD_SIZE is set but RANK is not/);
    expect(() => discoverRank({ RANK: 'one', WORLD_SIZE: '2' })).toThrow(/RANK must be an integer ≥ 0, got "one"/);
    expect(() => discoverRank({ RANK: '2', WORLD_SIZE: '2' })).toThrow(/RANK=2 must be < WORLD_SIZE=2/);
    expect(() => discoverRank({ SLURM_PROCID: '0', SLURM_NTASKS: '0' })).toThrow(/SLURM_NTASKS must be an integer ≥ 1/);
    expect(() => discoverRank({ RANK: '0', WORLD_SIZE: '1', MASTER_PORT: '70000' })).toThrow(/MASTER_PORT must be ≤ 65535/);
  });
});
