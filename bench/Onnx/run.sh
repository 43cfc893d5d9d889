#!/usr/bin/env bash
# ONNX benchmark (issue 6): `dotnet neural inspect` and `dotnet neural fuse` on torchvision's resnet50
# exported to ONNX (BatchNormalization kept, 97.7 MiB), against the same work done by Python's `onnx`
# package and numpy (bench/Onnx/python_baseline.py), in the same run. Also peak RSS of each.
# Usage: bench/Onnx/run.sh   (BENCH_WORK sets the work folder; needs hyperfine, python3-onnx, python3-torch)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-onnx-bench}
python=/usr/bin/python3
mkdir -p "$work"

dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
"$python" "$repo/tests/Engine.Tests/Formats/Onnx/export_models.py" "$work" resnet50 >/dev/null
model="$work/resnet50.onnx"
echo "model: $(stat -c %s "$model") bytes"
tool="$work/tool/dotnet-neural"
baseline="$python $repo/bench/Onnx/python_baseline.py"

echo "figures (must agree):"
"$tool" inspect "$model" | grep -E '^(params|macc) '
$baseline inspect "$model"
echo "in-process phases:"
$baseline inspect "$model" 2>&1 >/dev/null | sed 's/^/  python inspect: /'
$baseline fuse "$model" "$work/python-fused.onnx" 2>&1 >/dev/null | sed 's/^/  python fuse:    /'
"$tool" fuse "$model" -o "$work/out" --verify none 2>&1 | grep -E '^time' | sed 's/^/  neural fuse:    /'

cat "$model" >/dev/null
hyperfine --warmup 1 --runs 10 --export-markdown "$work/onnx.md" \
  -n "neural inspect" "$tool inspect $model >/dev/null" \
  -n "python onnx inspect (load+checker+shape inference+count)" "$baseline inspect $model >/dev/null 2>&1" \
  -n "neural fuse --verify none" "$tool fuse $model -o $work/out --verify none >/dev/null 2>&1" \
  -n "neural fuse --verify layers" "$tool fuse $model -o $work/out-layers --verify layers >/dev/null 2>&1" \
  -n "python onnx+numpy fuse (load+fold+checker+save)" "$baseline fuse $model $work/python-fused.onnx >/dev/null 2>&1"
cat "$work/onnx.md"

echo
echo "| command | peak RSS (MiB) |"
echo "|---|---:|"
rss() { /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>&1; echo "$(( $(cat "$work/rss") / 1024 ))"; }
echo "| neural inspect | $(rss "$tool" inspect "$model") |"
echo "| python inspect | $(rss $baseline inspect "$model") |"
echo "| neural fuse --verify none | $(rss "$tool" fuse "$model" -o "$work/out" --verify none) |"
echo "| neural fuse --verify layers | $(rss "$tool" fuse "$model" -o "$work/out-layers" --verify layers) |"
echo "| python fuse | $(rss $baseline fuse "$model" "$work/python-fused.onnx") |"
