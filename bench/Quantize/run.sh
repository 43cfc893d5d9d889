#!/usr/bin/env bash
# int8 / fp16 weight quantization benchmark (issue 13): `convert --to onnx --quantize int8` of ResNet-50
# (the torchvision export the tests make: tests/Engine.Tests/Formats/Onnx/export_models.py, seeded
# weights) against the float export, timed by hyperfine, peak RSS by bench/peak-rss.sh.
# Usage: bench/Quantize/run.sh   (BENCH_WORK: work folder; BENCH_RUNS: hyperfine runs, default 5)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-quantize-bench}
runs=${BENCH_RUNS:-5}
mkdir -p "$work"

dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
/usr/bin/python3 "$repo/tests/Engine.Tests/Formats/Onnx/export_models.py" "$work" resnet18 resnet50 >/dev/null 2>&1
model="$work/resnet50.onnx"
cat "$model" >/dev/null
tool="$work/tool/dotnet-neural"
echo "uptime: $(uptime)"
echo "model: $model, $(stat -c %s "$model") bytes"

commands=(
  "$tool convert $model --to onnx -o $work/float --verify none"
  "$tool convert $model --to onnx -o $work/int8 --verify none --quantize int8"
  "$tool convert $model --to onnx -o $work/fp16 --verify none --quantize fp16"
  "$tool convert $model --to onnx -o $work/int8-checked --quantize int8"
)
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/hyperfine.md" \
  -n "convert --verify none" -n "convert --verify none --quantize int8" -n "convert --verify none --quantize fp16" \
  -n "convert --quantize int8 (read back, reference executor and ONNX Runtime)" "${commands[@]}" >/dev/null
cat "$work/hyperfine.md"
echo
echo "| command | peak RSS [KiB] | peak RSS / model file | written file [bytes] |"
echo "|---|---:|---:|---:|"
names=("convert --verify none" "convert --verify none --quantize int8" "convert --verify none --quantize fp16" "convert --quantize int8 (checked)")
outs=(float int8 fp16 int8-checked)
for i in "${!commands[@]}"; do
  read -r kib _ < <(bash "$repo/bench/peak-rss.sh" ${commands[$i]})
  ratio=$(awk -v k="$kib" -v s="$(stat -c %s "$model")" 'BEGIN { printf "%.2f", k * 1024 / s }')
  echo "| ${names[$i]} | $kib | $ratio | $(stat -c %s "$work/${outs[$i]}/resnet50.onnx") |"
done
echo "uptime: $(uptime)"
