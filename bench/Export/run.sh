#!/usr/bin/env bash
# Export benchmark (issue 12): `convert --to onnx` of a generated yolov3-sized weights file (~248 MB)
# against a plain copy of the same file, in the same run, plus peak memory of each.
# Usage: bench/Export/run.sh   (BENCH_WORK=folder, BENCH_CFG=another cfg)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-export-bench}
cfg=${BENCH_CFG:-$repo/corpus/darknet/yolov3.cfg}
mkdir -p "$work"
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null

dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
dotnet publish "$repo/tools/SyntheticWeights" -c Release -o "$work/gen" --nologo -v q >/dev/null
[ -f "$work/yolov3.weights" ] || "$work/gen/NeuralBuild.SyntheticWeights" "$cfg" "$work/yolov3.weights" 1
cp "$cfg" "$work/yolov3.cfg"
size=$(stat -c %s "$work/yolov3.weights")
echo "weights: $size bytes"

# Warm the page cache so both sides read from memory.
cat "$work/yolov3.weights" >/dev/null

convert() { echo "$work/tool/dotnet-neural convert $work/yolov3.cfg --weights $work/yolov3.weights --to onnx -o $work/out-$1 $2 >/dev/null 2>&1"; }
hyperfine --warmup 1 --runs 5 --export-markdown "$work/export.md" \
  -n "cp (plain copy)" "cp $work/yolov3.weights $work/copy.weights" \
  -n "convert --verify none" "$(convert none '--verify none')" \
  -n "convert (read back at 1x3x160x160, ONNX Runtime at 416)" "$(convert checked '--verify-input 1x3x160x160')"
cat "$work/export.md"

echo
echo "| command | peak RSS (KiB) | peak RSS / file size |"
echo "|---|---:|---:|"
rss() {
  local name=$1; shift
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>&1
  local kib; kib=$(cat "$work/rss")
  echo "| $name | $kib | $(python3 -c "print(f'{$kib*1024/$size:.2f}')") |"
}
rss "convert --verify none" "$work/tool/dotnet-neural" convert "$work/yolov3.cfg" --weights "$work/yolov3.weights" --to onnx -o "$work/out-none" --verify none
rss "convert (read back at 160, ONNX Runtime at 416)" "$work/tool/dotnet-neural" convert "$work/yolov3.cfg" --weights "$work/yolov3.weights" --to onnx -o "$work/out-checked" --verify-input 1x3x160x160
rss "cp" cp "$work/yolov3.weights" "$work/copy.weights"
ls -l "$work/out-none"
