#!/usr/bin/env bash
# The GPU proof run, one command: install lsnet beside the machine's PyTorch (never replacing it), run
# the gpu-marked tests, then measure the paper's throughput protocol for lsnet_t/s/b in every GPU mode
# with parity (python -m lsnet.bench.gpu.measure). Writes under OUT_DIR:
#   gpu_run.log        everything printed
#   gpu_tests.xml      pytest's JUnit report of the gpu tests
#   gpu_results.json   the results file (schema lsnet-bench/1, the GPU named), gpu_results.md beside it
# The whole run keeps to LSNET_GPU_RUN_S seconds (default 330): every step has a time limit, and
# what does not fit is skipped and recorded in the results.
#
#   bench/gpu/run.sh OUT_DIR              on a machine with an NVIDIA GPU (docs/gpu.md)
#   bench/gpu/run.sh --dry-run OUT_DIR    on CPU at tiny sizes: every step but CUDA (tests/test_gpu_run.py)
set -uo pipefail
cd "$(dirname "$0")/../.."

dry_run=()
if [ "${1:-}" = "--dry-run" ]; then dry_run=(--dry-run); shift; fi
out="${1:?usage: bench/gpu/run.sh [--dry-run] OUT_DIR}"
python="${PYTHON:-python3}"
total="${LSNET_GPU_RUN_S:-330}"
start=$(date +%s)
export PYTHONUNBUFFERED=1  # the log keeps every line even when a step is stopped at its limit
mkdir -p "$out" || exit 1
out="$(cd "$out" && pwd)"

left() { echo $(( total - ($(date +%s) - start) )); }
say() { echo "[$(( $(date +%s) - start )) s] $*"; }

run() {
  say "lsnet GPU run in $(pwd) (${dry_run[*]:-device run}), limit ${total} s"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  "$python" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "numpy", numpy.__version__)'

  # 1. lsnet importable from this checkout; else an editable install without dependencies: the
  #    machine's torch and numpy stay as they are (our numpy<2.4 pin is not enforced here)
  if ! "$python" -c 'import lsnet.bench.gpu.measure' 2>/dev/null; then
    say "installing lsnet (pip --no-deps --no-build-isolation --no-index -e .)"
    timeout 120 "$python" -m pip install -q --no-deps --no-build-isolation --no-index -e . || { say "error: installing lsnet failed"; return 1; }
    "$python" -c 'import lsnet.bench.gpu.measure' || { say "error: lsnet does not import after the install"; return 1; }
  fi
  "$python" -c 'import lsnet, torch, numpy; print("lsnet from", lsnet.__file__, "| torch", torch.__version__, "numpy", numpy.__version__, "(unchanged)")'

  # 2. the gpu-marked tests (the files that declare any), at most 150 s and 100 s per test; on a GPU in
  #    4 pytest-xdist workers when it is installed (Triton compiles each kernel variant on the CPU first)
  local files workers=()
  files=$(grep -l "mark.gpu" tests/test_*.py | tr '\n' ' ')
  "$python" -c 'import xdist, torch; assert torch.cuda.is_available()' 2>/dev/null && workers=(-n 4)
  say "gpu tests: $files${workers[*]:+(${workers[*]})}"
  rm -f "$out/gpu_tests.xml"
  # shellcheck disable=SC2086
  timeout -k 5 "$(( $(left) < 150 ? $(left) / 2 : 150 ))" "$python" -m pytest -q -p no:cacheprovider -m gpu --timeout 100 \
    "${workers[@]}" --junitxml "$out/gpu_tests.xml" $files
  say "gpu tests exit status $?"

  # 3. the measurement, in what is left (20 s kept for writing and exiting)
  local budget=$(( $(left) - 20 ))
  if [ "$budget" -lt 10 ]; then say "error: no time left to measure"; return 1; fi
  say "measuring with a budget of ${budget} s"
  timeout -k 5 "$(( budget + 15 ))" "$python" -m lsnet.bench.gpu.measure --out "$out/gpu_results.json" \
    --tests-junit "$out/gpu_tests.xml" --budget-s "$budget" "${dry_run[@]}"
  local status=$?
  say "measurement exit status $status"
  return "$status"
}

run 2>&1 | tee "$out/gpu_run.log"
