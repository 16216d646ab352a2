#!/usr/bin/env bash
# Debian packages the tests need. Runs as root in CI; a no-op where everything is present.
# - libvulkan1 + Mesa 25 (bookworm-backports) give Dawn (the `webgpu` package) an llvmpipe adapter, so the
#   WebGPU conformance tests run on CPU-only machines (bookworm's own Mesa 22.3 offers Dawn no adapter).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need_update=1
update() { if [ $need_update = 1 ]; then apt-get update -qq; need_update=0; fi; }
# - chromium: the web demo's end-to-end test (playwright-core drives /usr/bin/chromium).
# - libopenmpi-dev + openmpi-bin: the `mpi` process group's N-API binding (built at npm install) and its mpirun tests.
# - iproute2 (ip netns, tc) for the two-namespace MPI test; make + g++ for node-gyp.
missing=""
for p in libvulkan1 chromium libopenmpi-dev openmpi-bin iproute2 make g++; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then update; apt-get install -y -qq --no-install-recommends $missing; fi
mesa_ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
case "$mesa_ver" in
  2[5-9].*|[3-9][0-9].*) ;;
  *)
    if grep -qs bookworm /etc/os-release; then
      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/duet-backports.list
      need_update=1; update
      apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
    else
      update; apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers
    fi
    ;;
esac
