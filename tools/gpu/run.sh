#!/usr/bin/env bash
# Runs Duet's WebGPU training checks and the PyTorch reference on a GPU host in one go (no network, no Node there):
# everything comes from .gpu-carry/ (made by tools/gpu/prepare.sh) and the working tree.
#   bash tools/gpu/run.sh            full run: results in $OUT (the device tool's folder) or /tmp/duet-gpu-out
#   bash tools/gpu/run.sh --smoke    the same stages with tiny sizes, on whatever adapter exists (llvmpipe here)
# Stages, each under its own time limit so one failure does not eat the lease:
#   1. Vulkan loader (Debian .debs, only when the host has none) + the NVIDIA ICD (VK_DRIVER_FILES), node, Dawn
#   2. train-tiny: tiny-siglip on Fashion-MNIST, TINY_STEPS steps of 64 on webgpu: loss and zero-shot accuracy
#   3. time-step: the ViT-B-32 SigLIP training step, batch BATCH (256), 224² images, on webgpu
#   4. torch_reference.py: the same model, loss, step and batch in PyTorch eager (fp32 TF32 off; TF32 + bf16 autocast)
#   5. check: Duet (webgpu) and torch_reference.py (float64) on the same weights and batch: loss and gradient norms
#   6. profile: per-kernel table of one ViT-B-32 step on webgpu (GPU timestamp queries), batch PROFILE_BATCH
#   7. report.json + report.md: samples/s of each and the ratios
# Files written to the output folder (8, the most the device tool brings back): run.log, tiny.json, duet-step.json,
# torch.json, profile.json, profile.md, report.json, report.md.
set -uo pipefail
export PYTHONUNBUFFERED=1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CARRY=${CARRY:-$ROOT/.gpu-carry}
SMOKE=0
for a in "$@"; do
  case "$a" in
    --smoke) SMOKE=1 ;;
    *) echo "run.sh: unknown option $a (expected --smoke)" >&2; exit 2 ;;
  esac
done
OUTDIR=${OUT:-/tmp/duet-gpu-out}
mkdir -p "$OUTDIR"
WORK=$(mktemp -d /tmp/duet-gpu.XXXXXX)
exec > >(tee -a "$OUTDIR/run.log") 2>&1
echo "== tools/gpu/run.sh $(date -u +%FT%TZ) smoke=$SMOKE out=$OUTDIR"

if [ "$SMOKE" = 1 ]; then
  TINY_STEPS=${TINY_STEPS:-12}; TINY_BATCH=16; TINY_TRAIN=1000; TINY_EVAL=200
  PRESET=tiny-clip; BATCH=${BATCH:-4}; STEP_WARMUP=1; STEP_STEPS=2; PROFILE_BATCH=2; TORCH_ARGS="--smoke"
  T_TINY=300; T_STEP=300; T_TORCH=300; T_PROFILE=300; TOTAL_DEFAULT=1800
else
  TINY_STEPS=${TINY_STEPS:-300}; TINY_BATCH=64; TINY_TRAIN=20000; TINY_EVAL=1000
  PRESET=ViT-B-32; BATCH=${BATCH:-256}; STEP_WARMUP=2; STEP_STEPS=5; PROFILE_BATCH=${PROFILE_BATCH:-32}; TORCH_ARGS="--steps 10 --warmup 3"
  T_TINY=120; T_STEP=180; T_TORCH=120; T_PROFILE=90; TOTAL_DEFAULT=570
fi

# ---------------------------------------------------------------- 1. Vulkan, node, Dawn
unxz_to() { # unxz_to SRC DST: xz if installed, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
[ -f "$CARRY/node.xz" ] || { echo "run.sh: $CARRY/node.xz missing: run tools/gpu/prepare.sh first and carry .gpu-carry"; exit 1; }
# (grep without -q: with pipefail, grep -q closing the pipe early would make ldconfig fail with SIGPIPE)
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
  if [ "$(id -u)" = 0 ] && [ "$SMOKE" = 0 ]; then
    echo "-- no Vulkan loader: unpacking $(ls "$CARRY"/debs/*.deb | xargs -n1 basename | tr '\n' ' ')to /"
    for f in "$CARRY"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    echo "-- no Vulkan loader (smoke run or not root): unpacking the .debs under $WORK/sys (LD_LIBRARY_PATH)"
    for f in "$CARRY"/debs/*.deb; do dpkg -x "$f" "$WORK/sys"; done
    export LD_LIBRARY_PATH="$WORK/sys/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ "$SMOKE" = 0 ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
fi
echo "-- VK_DRIVER_FILES=${VK_DRIVER_FILES:-<loader default>}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
mkdir -p "$WORK/app/dist/linux-x64"
unxz_to "$CARRY/node.xz" "$WORK/node" && chmod +x "$WORK/node"
unxz_to "$CARRY/app/dist/linux-x64/dawn.node.xz" "$WORK/app/dist/linux-x64/dawn.node"
cp "$CARRY/app/gpu-bench.mjs" "$WORK/app/"
NODE="$WORK/node --max-old-space-size=16384"
APP="$WORK/app/gpu-bench.mjs"
echo "-- node $($WORK/node --version), bundle $(stat -c %s "$APP") bytes"

# The whole run stays inside the device tool's 600 s per command: every stage gets at most what is left of
# TOTAL_S (default 570 s; 1800 s for --smoke) minus 20 s kept for the report.
TOTAL_S=${TOTAL_S:-$TOTAL_DEFAULT}
stage() { # stage NAME SECONDS CMD...: runs with a time limit, reports the exit status, never aborts the script
  local name=$1 secs=$2; shift 2
  local left=$((TOTAL_S - SECONDS - 20))
  [ "$name" = report ] && left=$((TOTAL_S - SECONDS + 20))
  if [ "$left" -lt "$secs" ]; then secs=$left; fi
  if [ "$secs" -lt 5 ]; then echo; echo "== $name: skipped, the run's ${TOTAL_S}s are used up"; return 124; fi
  echo; echo "== $name (limit ${secs}s): $*"
  local t0=$SECONDS
  timeout --kill-after=10 "$secs" "$@"
  local rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0))s"
  return $rc
}

# ---------------------------------------------------------------- 2-5
WEBGPU=1
if ! stage adapter 60 $NODE "$APP" info; then
  WEBGPU=0
  echo "== no usable WebGPU adapter (diagnosis above): the webgpu stages are skipped, PyTorch still runs"
fi
[ "$WEBGPU" = 1 ] && stage train-tiny "$T_TINY" $NODE "$APP" train-tiny --data "$CARRY/data/fashion-mnist" --steps "$TINY_STEPS" --batch "$TINY_BATCH" \
  --train "$TINY_TRAIN" --eval "$TINY_EVAL" --out "$OUTDIR/tiny.json"
if [ "$WEBGPU" = 1 ] && ! stage time-step "$T_STEP" $NODE "$APP" time-step --preset "$PRESET" --loss siglip --batch "$BATCH" --warmup "$STEP_WARMUP" \
  --steps "$STEP_STEPS" --out "$OUTDIR/duet-step.json"; then
  # Most likely out of device memory: the same batch (one loss over all of it) as 4 accumulated micro-batches.
  stage time-step-accum4 "$T_STEP" $NODE "$APP" time-step --preset "$PRESET" --loss siglip --batch "$BATCH" --accum 4 \
    --warmup 1 --steps 3 --out "$OUTDIR/duet-step.json"
fi
PRESET_JSON=packages/encoders/src/presets/$PRESET.json
PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
done
if [ -n "$PY" ]; then
  echo "-- torch: $PY ($("$PY" -c 'import torch; print(torch.__version__)'))"
  # shellcheck disable=SC2086
  stage torch "$T_TORCH" "$PY" tools/gpu/torch_reference.py --preset "$PRESET_JSON" --loss siglip --batch "$BATCH" \
    $TORCH_ARGS --out "$OUTDIR/torch.json"
else
  echo "== torch: no python3 with torch here (tried \$PYTHON, python3, /usr/bin/python3); skipped (the report lists Duet alone)"
fi
if [ -n "$PY" ] && [ "$WEBGPU" = 1 ]; then
  # Same function, not only the same shapes: Duet (webgpu) and PyTorch (float64, CPU) on identical weights and batch.
  CHECK_PRESET=$PRESET; [ "$SMOKE" = 1 ] || CHECK_PRESET=ViT-B-32
  stage export-check 120 $NODE "$APP" export-check --preset "$CHECK_PRESET" --loss siglip --batch 2 --out "$WORK/check" &&
    stage torch-check 180 "$PY" tools/gpu/torch_reference.py --check "$WORK/check"
  rm -rf "$WORK/check"
fi
[ "$WEBGPU" = 1 ] && stage profile "$T_PROFILE" $NODE "$APP" profile --preset "$PRESET" --loss siglip --batch "$PROFILE_BATCH" --warmup 1 --out "$OUTDIR/profile.json"

# ---------------------------------------------------------------- 6. report
stage report 30 $NODE "$APP" report --duet "$OUTDIR/duet-step.json" --torch "$OUTDIR/torch.json" --tiny "$OUTDIR/tiny.json" \
  --profile "$OUTDIR/profile.json" --out "$OUTDIR/report.json" --md "$OUTDIR/report.md"
rm -rf "$WORK"
echo "== done: $(ls "$OUTDIR" | tr '\n' ' ')"
