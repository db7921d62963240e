#!/usr/bin/env bash
# Produce the committed CPU benchmark results and regenerate docs/benchmarks.md.
#
# One interleaved `lsnet bench` run on CPU, batch 1 and 8:
#   - lsnet_t/s/b in ONNX Runtime: our default export and the baseline export (--baseline);
#   - lsnet_t/s/b in PyTorch eager: the reference SKA and the fastest SKA on this machine;
#   - peers in ONNX Runtime, exported the same way (legacy exporter, dynamic batch, opset 18,
#     onnxslim): MobileNetV3-Large, EfficientViT-M4, RepViT-M1.1, FastViT-T8.
# Writes bench/results/cpu_<host>_<YYYYMMDD>.json (+ .md beside it), then
# `lsnet bench report bench/results/*.json --out docs/benchmarks.md --plot-dir docs/img`.
# About 10 minutes on 2 cores with the defaults. Run it on a quiet machine, from anywhere:
#
#   bench/run_cpu_suite.sh
#
# Settings (environment variables, all optional):
#   PYTHON        Python with lsnet's dependencies and the onnx extra   (default: /work/venv/bin/python, else python3)
#   PEERS_PYTHON  Python with timm (pip install "lsnet[peers]"; may be a separate venv)
#                                                                        (default: /work/peers-venv/bin/python, else $PYTHON)
#   MODELS        LSNet variants                                         (default: lsnet_t lsnet_s lsnet_b)
#   PEERS         peer timm names (comma-separated)                     (default: all four)
#   BATCHES       batch sizes                                            (default: 1,8)
#   WARMUP        warm-up seconds per configuration                      (default: 1)
#   MIN_TIME      timed seconds per configuration, over all rounds      (default: 10)
#   ROUNDS        interleaved rounds                                     (default: 5)
#   THREADS       CPU threads for PyTorch and ONNX Runtime               (default: all usable cores)
#   ART           folder for the exported .onnx files                   (default: artifacts/cpu_suite)
#   RESULTS_DIR   where the results file goes                            (default: bench/results)
#   REPORT        generated markdown; empty to skip the report          (default: docs/benchmarks.md)
#   PLOT_DIR      plots of the report                                    (default: docs/img)
#
# Smoke test (tiny settings, nothing committed):
#   MODELS=lsnet_t PEERS=mobilenetv3_large_100 BATCHES=1 WARMUP=0 MIN_TIME=0.2 ROUNDS=1 \
#   RESULTS_DIR=/tmp/suite REPORT=/tmp/suite/benchmarks.md PLOT_DIR=/tmp/suite/img bench/run_cpu_suite.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

default_python() { if [ -x "$1" ]; then echo "$1"; else command -v python3; fi; }
PYTHON="${PYTHON:-$(default_python /work/venv/bin/python)}"
PEERS_PYTHON="${PEERS_PYTHON:-$(default_python /work/peers-venv/bin/python)}"
MODELS="${MODELS:-lsnet_t lsnet_s lsnet_b}"
PEERS="${PEERS:-mobilenetv3_large_100,efficientvit_m4,repvit_m1_1,fastvit_t8}"
BATCHES="${BATCHES:-1,8}"
WARMUP="${WARMUP:-1}"
MIN_TIME="${MIN_TIME:-10}"
ROUNDS="${ROUNDS:-5}"
THREADS="${THREADS:-$(nproc)}"
ART="${ART:-artifacts/cpu_suite}"
RESULTS_DIR="${RESULTS_DIR:-bench/results}"
REPORT="${REPORT-docs/benchmarks.md}"
PLOT_DIR="${PLOT_DIR:-docs/img}"
OUT="$RESULTS_DIR/cpu_$(hostname -s)_$(date -u +%Y%m%d).json"
lsnet() { "$PYTHON" -m lsnet.cli "$@"; }

mkdir -p "$ART" "$RESULTS_DIR"
start=$(date +%s)

echo "== 1/4 exporting LSNet to ONNX (default and baseline) into $ART" >&2
for model in $MODELS; do
  lsnet export "$model" --format onnx -o "$ART/$model.onnx"
  lsnet export "$model" --format onnx --baseline -o "$ART/${model}_baseline.onnx"
done

echo "== 2/4 exporting peers with $PEERS_PYTHON" >&2
"$PEERS_PYTHON" -m lsnet.bench.peers --out "$ART" --models "$PEERS"

echo "== 3/4 choosing the fastest PyTorch SKA formulation" >&2
FAST_SKA="$("$PYTHON" -m lsnet.bench.ska_choice --model "${MODELS%% *}" --device cpu --threads "$THREADS")"
echo "fastest SKA here: $FAST_SKA" >&2

targets=()
for model in $MODELS; do
  targets+=("$ART/$model.onnx" "$ART/${model}_baseline.onnx" "$model@ska=reference")
  if [ "$FAST_SKA" != reference ]; then targets+=("$model@ska=$FAST_SKA"); fi
done
IFS=, read -r -a peer_names <<< "$PEERS"
for peer in "${peer_names[@]}"; do targets+=("$ART/$peer.onnx"); done

echo "== 4/4 benchmarking ${#targets[@]} targets at batch $BATCHES (interleaved) -> $OUT" >&2
lsnet bench "${targets[@]}" --device cpu --batch "$BATCHES" --threads "$THREADS" \
  --warmup "$WARMUP" --min-time "$MIN_TIME" --rounds "$ROUNDS" --out "$OUT"

if [ -n "$REPORT" ]; then
  lsnet bench report "$RESULTS_DIR"/*.json --out "$REPORT" --plot-dir "$PLOT_DIR"
fi
echo "done in $(( $(date +%s) - start )) s: $OUT${REPORT:+ and $REPORT}" >&2
