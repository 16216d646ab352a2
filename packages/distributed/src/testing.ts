// @duet/distributed/testing: launching worker modules on MPI ranks with mpirun, and two network namespaces
// joined by a veth pair as a two-machine stand-in. Used by this package's tests and tools/bench/mpi-*.bench.ts.
export { CONTAINER_MCA, PKG_DIR, ROOT_ENV, rankCommand, requireMpi, runMpi, type MpiRun } from './testing/mpirun.js';
export { createNetnsPair, netnsLauncher, requireNetnsRoot, setRate, wireTxBytes, type NetnsPair } from './testing/netns.js';
