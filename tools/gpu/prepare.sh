#!/usr/bin/env bash
# Assembles .gpu-carry/: everything tools/gpu/run.sh needs on a GPU host that has no network and no Node.
#   bash tools/gpu/prepare.sh            (run here, from anywhere in the repo; ~3-5 min the first time: xz of node)
# Contents (all under the 64 MiB the device tool carries, together with the working tree):
#   node.xz                    this machine's Node binary (x86-64 Linux, glibc), xz-compressed
#   app/gpu-bench.mjs          tools/gpu/gpu-bench.ts + the workspace packages + tfjs (+ webgpu backend), one esbuild bundle
#   app/dist/linux-x64/dawn.node.xz   the `webgpu` package's native Dawn addon (the bundle loads it from beside itself)
#   data/fashion-mnist/        Fashion-MNIST subsets (IDX .gz): the first TRAIN_N train and TEST_N test images
#   debs/                      Debian's Vulkan loader and GL vendor-neutral dispatch (libvulkan1, libglvnd0, libglx0, libegl1)
#   manifest.json              what was packed, sizes, versions
# .gpu-carry/ is ignored through .git/info/exclude (added here), not .gitignore.
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$ROOT"
CARRY=.gpu-carry
TRAIN_N=${TRAIN_N:-20000}
TEST_N=${TEST_N:-2000}
LIMIT_MIB=${LIMIT_MIB:-64}
FMNIST=${FMNIST:-$(cd .. && pwd)/shared/datasets/fashion-mnist}
[ -d "$FMNIST" ] || FMNIST=/work/shared/datasets/fashion-mnist

step() { printf '\n== %s\n' "$*" >&2; }

mkdir -p "$(git rev-parse --git-path info)"
EXCLUDE=$(git rev-parse --git-path info/exclude)
grep -qxF "/$CARRY/" "$EXCLUDE" 2>/dev/null || echo "/$CARRY/" >> "$EXCLUDE"
mkdir -p "$CARRY/app/dist/linux-x64" "$CARRY/data/fashion-mnist" "$CARRY/debs"

step "node $(node --version) -> $CARRY/node.xz"
NODE_BIN=$(readlink -f "$(command -v node)")
if [ ! -f "$CARRY/node.xz" ] || [ "$(cat "$CARRY/node.version" 2>/dev/null)" != "$(node --version) $(stat -c %s "$NODE_BIN")" ]; then
  xz -T0 -6 -c "$NODE_BIN" > "$CARRY/node.xz.tmp" && mv "$CARRY/node.xz.tmp" "$CARRY/node.xz"
  echo "$(node --version) $(stat -c %s "$NODE_BIN")" > "$CARRY/node.version"
else
  echo "  (cached)" >&2
fi

step "bundle tools/gpu/gpu-bench.ts -> $CARRY/app/gpu-bench.mjs"
# ESM bundle for Node 20. CommonJS dependencies call require/__dirname: the banner provides them. sharp (native,
# used by @duet/data for encoded images, never for Fashion-MNIST's raw IDX) is replaced by a stub that throws if used.
npx --no-install esbuild tools/gpu/gpu-bench.ts --bundle --platform=node --format=esm --target=node20 \
  --conditions=@duet/source --main-fields=module,main \
  --alias:sharp=./tools/gpu/sharp-stub.ts \
  --banner:js="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);" \
  --log-level=warning --legal-comments=none \
  --outfile="$CARRY/app/gpu-bench.mjs"
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
if [ ! -f "$CARRY/app/dist/linux-x64/dawn.node.xz" ] || [ "$DAWN" -nt "$CARRY/app/dist/linux-x64/dawn.node.xz" ]; then
  xz -T0 -6 -c "$DAWN" > "$CARRY/app/dist/linux-x64/dawn.node.xz"
fi

step "Fashion-MNIST subsets ($TRAIN_N train, $TEST_N test) from $FMNIST"
python3 - "$FMNIST" "$CARRY/data/fashion-mnist" "$TRAIN_N" "$TEST_N" <<'PY'
import gzip, os, struct, sys
src, dst, ntrain, ntest = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def subset(name, n):
    with gzip.open(os.path.join(src, name + ".gz")) as f:
        raw = f.read()
    nd = raw[3]
    dims = list(struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd]))
    per = 1
    for d in dims[1:]:
        per *= d
    n = min(n, dims[0])
    body = raw[4 + 4 * nd: 4 + 4 * nd + n * per]
    out = os.path.join(dst, name + ".gz")
    with gzip.open(out + ".tmp", "wb", compresslevel=9) as f:
        f.write(raw[:4] + struct.pack(">" + "I" * nd, n, *dims[1:]) + body)
    os.replace(out + ".tmp", out)
for split, n in (("train", ntrain), ("t10k", ntest)):
    subset(f"{split}-images-idx3-ubyte", n)
    subset(f"{split}-labels-idx1-ubyte", n)
PY

step "Vulkan loader + glvnd .debs"
if ! ls "$CARRY"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  ( cd "$CARRY/debs" && apt-get download libvulkan1 libglvnd0 libglx0 libegl1 2>&1 | grep -v '^W: Download is performed unsandboxed' || true )
fi
ls "$CARRY"/debs/libvulkan1_*.deb >/dev/null

step "manifest"
total_carry=$(du -sb "$CARRY" | cut -f1)
tree=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
cat > "$CARRY/manifest.json" <<JSON
{
  "created": "$(date -u +%FT%TZ)",
  "commit": "$(git rev-parse HEAD)",
  "node": "$(node --version)",
  "webgpu": "$(node -p "require('./node_modules/webgpu/package.json').version")",
  "tfjs": "$(node -p "require('./node_modules/@tensorflow/tfjs/package.json').version")",
  "fashion_mnist": { "train": $TRAIN_N, "test": $TEST_N },
  "bytes": { "carry": $total_carry, "tracked": $tree, "untracked": $untracked }
}
JSON
du -ab "$CARRY" | sort -n | awk '$1 > 100000 { printf "  %8.2f MiB  %s\n", $1 / 1048576, $2 }' >&2
total=$((total_carry + tree + untracked))
awk -v c="$total_carry" -v t="$((tree + untracked))" -v l="$LIMIT_MIB" \
  'BEGIN { printf "carry %.1f MiB + working tree %.1f MiB = %.1f MiB (limit %d MiB)\n", c / 1048576, t / 1048576, (c + t) / 1048576, l }' >&2
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
  echo "prepare.sh: ${total} bytes exceed the ${LIMIT_MIB} MiB the device tool carries" >&2
  exit 1
fi
echo "ready: run on a GPU host with carry [\"$CARRY\"] and command: bash tools/gpu/run.sh" >&2
