#!/usr/bin/env bash
# ONNX Runtime inference time of int8 weights against int8-static (calibrated uint8 activations, QDQ), issue 13:
# the torchvision exports the tests make (tests/Engine.Tests/Formats/Onnx/export_models.py, seeded weights)
# converted with the tool (Release) as float, --quantize int8 and --quantize int8-static, then each file timed
# in ONNX Runtime 1.32 (1 thread) by Program.cs, and the tool's own measured error printed.
# Usage: bench/QuantizeStatic/run.sh [MODEL...]   (default resnet18 squeezenet1_1; BENCH_WORK, BENCH_RUNS=50)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_WORK:-/tmp/neuralbuild-quantize-static-bench}
runs=${BENCH_RUNS:-50}
models=("${@:-resnet18 squeezenet1_1}")
read -r -a models <<< "${models[*]}"
mkdir -p "$work"
dotnet publish "$repo/src/Tool" -c Release -o "$work/tool" --nologo -v q >/dev/null
dotnet build "$repo/bench/QuantizeStatic" -c Release -o "$work/bench" --nologo -v q >/dev/null
/usr/bin/python3 "$repo/tests/Engine.Tests/Formats/Onnx/export_models.py" "$work" "${models[@]}" >/dev/null 2>&1
echo "uptime: $(uptime)"
files=()
for model in "${models[@]}"; do
  for q in none int8 int8-static; do
    flag=(); [ "$q" = none ] || flag=(--quantize "$q")
    "$work/tool/dotnet-neural" convert "$work/$model.onnx" --to onnx -o "$work/$model-$q" "${flag[@]}" > "$work/$model-$q.md"
    echo "$model $q: $(grep -- '- runtime:' "$work/$model-$q.md" | sed 's/.*output/output/')"
    files+=("$work/$model-$q/$model.onnx")
  done
done
echo
"$work/bench/NeuralBuild.Bench.QuantizeStatic" "$runs" "${files[@]}"
echo "uptime: $(uptime)"
