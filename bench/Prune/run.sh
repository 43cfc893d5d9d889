#!/usr/bin/env bash
# Dead-channel pruning benchmark (issue 13): `fuse --prune-dead-channels` of yolov3 with generated
# weights in which every 8th channel of every BatchNorm conv is dead (gamma = beta = 0), against the
# same fuse without pruning; wall time and peak RSS (/usr/bin/time), and what pruning saved. Usage: bench/Prune/run.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-prune-bench}
cfg=${BENCH_CFG:-$repo/corpus/darknet/yolov3.cfg}
step=${BENCH_STEP:-8}
mkdir -p "$work"

dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
dotnet publish "$repo/tools/SyntheticWeights" -c Release -o "$work/gen" --nologo -v q >/dev/null
cp "$cfg" "$work/yolov3.cfg"
"$work/gen/NeuralBuild.SyntheticWeights" "$work/yolov3.cfg" "$work/yolov3.weights" 1
"$work/tool/dotnet-neural" inspect "$work/yolov3.cfg" --format json > "$work/inspect.json"
python3 "$repo/bench/Prune/zero-channels.py" "$work/yolov3.cfg" "$work/yolov3.weights" "$work/inspect.json" "$step"
cat "$work/yolov3.weights" >/dev/null

fuse="$work/tool/dotnet-neural fuse $work/yolov3.cfg --weights $work/yolov3.weights"
runs=${BENCH_RUNS:-5}
echo "| command | wall time [s], $runs runs (min / median / max) | peak RSS [KiB] (max) |"
echo "|---|---:|---:|"
for extra in "--verify none" "--verify none --prune-dead-channels"; do
  times=(); rss=0
  $fuse -o "$work/out" $extra >/dev/null 2>&1  # warm-up
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/time" $fuse -o "$work/out" $extra >/dev/null 2>&1
    read -r seconds kib < "$work/time"
    times+=("$seconds"); [ "$kib" -gt "$rss" ] && rss=$kib
  done
  stats=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%s / %s / %s", a[1], a[int((NR+1)/2)], a[NR]}')
  echo "| fuse $extra | $stats | $rss |"
done

# Pruning verifies the whole model (the reference executor runs both): once, it is slow.
/usr/bin/time -f "%e %M" -o "$work/time" $fuse -o "$work/out" --prune-dead-channels >/dev/null 2>&1
read -r seconds kib < "$work/time"
echo "| fuse --prune-dead-channels (verification: whole model), 1 run | $seconds | $kib |"

echo
$fuse -o "$work/out" --verify none --prune-dead-channels 2>/dev/null > "$work/report.md"
echo "layers changed by pruning: $(grep -c '^| [0-9]* \[' "$work/report.md")"
echo
sed -n '/^| metric/,/^| peak/p' "$work/report.md"
