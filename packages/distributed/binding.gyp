{
  # The MPI binding. Compiler/linker flags come from Open MPI's wrapper (`mpicc --showme:compile/--showme:link`)
  # through the environment that tools/build-mpi.mjs sets, so any MPI install location works.
  "targets": [
    {
      "target_name": "duet_mpi",
      "sources": ["native/duet_mpi.c"],
      "cflags": ["-O2", "-Wall", "<!@(node -p \"process.env.DUET_MPI_CFLAGS || ''\")"],
      "libraries": ["<!@(node -p \"process.env.DUET_MPI_LIBS || '-lmpi'\")"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
