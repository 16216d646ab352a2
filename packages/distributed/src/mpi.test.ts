import { describe, expect, it } from 'vitest';
import { createMpiGroup, MpiUnavailableError } from './index.js';

describe('mpi group', () => {
  it('fails with a message saying what to install and that the binding is not built', async () => {
    const err = await createMpiGroup().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MpiUnavailableError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/Open MPI is (not )?installed/);
    expect(msg).toMatch(/does not build its N-API MPI binding yet/);
    expect(msg).toMatch(/threads/);
    if (/not installed/.test(msg)) expect(msg).toMatch(/apt-get install libopenmpi-dev openmpi-bin/);
  });
});
