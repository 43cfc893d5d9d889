#!/usr/bin/env bash
# prune-plan benchmark (issue 13 item 6): `prune-plan` of yolov3-tiny (generated weights) with each
# criterion, --samples 2 (so one layer's plan is 2 runs of the pruned model, plus 2 of the original;
# entropy adds 2 x 2 runs for the ranges and histograms) and -o (the pruned model written); wall time and
# peak RSS (/usr/bin/time), one run each. Usage: bench/Prune/plan.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-prune-plan-bench}
cfg=${BENCH_CFG:-$repo/corpus/darknet/yolov3-tiny.cfg}
samples=${BENCH_SAMPLES:-2}
mkdir -p "$work"

dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
dotnet publish "$repo/tools/SyntheticWeights" -c Release -o "$work/gen" --nologo -v q >/dev/null
cp "$cfg" "$work/model.cfg"
"$work/gen/NeuralBuild.SyntheticWeights" "$work/model.cfg" "$work/model.weights" 1
cat "$work/model.weights" >/dev/null

echo "| criterion | wall time [s] | peak RSS [KiB] |"
echo "|---|---:|---:|"
for criterion in l1 bn-gamma entropy; do
  /usr/bin/time -f "%e %M" -o "$work/time" "$work/tool/dotnet-neural" prune-plan "$work/model.cfg" --weights "$work/model.weights" \
    --criterion "$criterion" --samples "$samples" -o "$work/out-$criterion" >"$work/plan-$criterion.txt" 2>&1
  read -r seconds kib < "$work/time"
  echo "| $criterion | $seconds | $kib |"
done
grep -A3 "^together" "$work/plan-l1.txt"
