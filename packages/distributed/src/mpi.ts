// The `mpi` process group entry. The N-API binding to Open MPI is not built in this version of the package, so
// this fails with a clear message instead of pretending; the launch-side pieces (discoverRank) already work.
import { execFileSync } from 'node:child_process';
import type { ProcessGroup } from '@duet/losses';

export class MpiUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpiUnavailableError';
  }
}

function mpiInstalled(): boolean {
  try {
    execFileSync('mpirun', ['--version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Always rejects today: explains what to install and that the binding itself is not built yet. */
export async function createMpiGroup(): Promise<ProcessGroup> {
  const system = mpiInstalled()
    ? 'Open MPI is installed on this machine (mpirun found)'
    : 'Open MPI is not installed on this machine (no mpirun on PATH); on Debian/Ubuntu install it with `apt-get install libopenmpi-dev openmpi-bin`';
  throw new MpiUnavailableError(
    `mpi process group unavailable: ${system}, but @duet/distributed does not build its N-API MPI binding yet (not implemented in this version). ` +
      "Use the 'threads' group on one machine (launchThreads / duet train --workers N).",
  );
}
