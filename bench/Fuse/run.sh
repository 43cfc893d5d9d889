#!/usr/bin/env bash
# Fuse benchmark (issue 3): fusing a generated yolov3-sized weights file (~248 MB) against a plain
# copy of the same file, in the same run, plus peak memory of each. Usage: bench/Fuse/run.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-fuse-bench}
cfg=${BENCH_CFG:-$repo/corpus/darknet/yolov3.cfg}
mkdir -p "$work"

dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
dotnet publish "$repo/tools/SyntheticWeights" -c Release -o "$work/gen" --nologo -v q >/dev/null
[ -f "$work/yolov3.weights" ] || "$work/gen/NeuralBuild.SyntheticWeights" "$cfg" "$work/yolov3.weights" 1
cp "$cfg" "$work/yolov3.cfg"
size=$(stat -c %s "$work/yolov3.weights")
echo "weights: $size bytes"

# Warm the page cache so both sides read from memory.
cat "$work/yolov3.weights" >/dev/null

hyperfine --warmup 1 --runs 5 --export-markdown "$work/fuse.md" \
  -n "cp (plain copy)" "cp $work/yolov3.weights $work/copy.weights" \
  -n "cat > (stream copy)" "cat $work/yolov3.weights > $work/copy2.weights" \
  -n "fuse --verify none" "$work/tool/dotnet-neural fuse $work/yolov3.cfg --weights $work/yolov3.weights -o $work/out-none --verify none >/dev/null 2>&1" \
  -n "fuse --verify layers" "$work/tool/dotnet-neural fuse $work/yolov3.cfg --weights $work/yolov3.weights -o $work/out-layers --verify layers >/dev/null 2>&1"
cat "$work/fuse.md"

echo
echo "| command | peak RSS (KiB) | peak RSS / file size |"
echo "|---|---:|---:|"
for mode in none layers; do
  kib=$( /usr/bin/time -f "%M" -o "$work/rss-$mode" "$work/tool/dotnet-neural" fuse "$work/yolov3.cfg" --weights "$work/yolov3.weights" -o "$work/out-$mode" --verify $mode >/dev/null 2>&1; cat "$work/rss-$mode" )
  echo "| fuse --verify $mode | $kib | $(python3 -c "print(f'{$kib*1024/$size:.2f}')") |"
done
kib=$( /usr/bin/time -f "%M" -o "$work/rss-cp" cp "$work/yolov3.weights" "$work/copy.weights"; cat "$work/rss-cp" )
echo "| cp | $kib | $(python3 -c "print(f'{$kib*1024/$size:.3f}')") |"
