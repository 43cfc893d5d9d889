#!/usr/bin/env bash
# Whole-process wall time of `dotnet neural inspect` (runtime start-up + argument parsing + read +
# analyse + formatting + exit) of the Release-published tool, run through its apphost (and once
# as `dotnet dotnet-neural.dll`), next to `--version` as the no-work baseline.
#
#   bash bench/inspect-process.sh [RUNS] [WARMUP]      (defaults: 20 runs, 3 warm-up runs each)
#
# Uses hyperfine (installs it with apt-get when missing and allowed); falls back to a
# `date +%s%N` loop (forced with NO_HYPERFINE=1). Results go to stdout and, with hyperfine,
# to artifacts/bench/process/.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

runs=${1:-20}
warmup=${2:-3}
cfg=corpus/darknet/yolov4.cfg
out=artifacts/bench/process
tool_dir=artifacts/bench/tool
[ -f "$cfg" ] || { echo "missing $cfg (corpus/ of the repository)" >&2; exit 1; }

dotnet publish src/Tool/NeuralBuild.Tool.csproj -c Release -o "$tool_dir" --nologo -v quiet >/dev/null
tool=$tool_dir/dotnet-neural
mkdir -p "$out"

# Each command must succeed on its own before it is timed.
"$tool" inspect "$cfg" >/dev/null
"$tool" inspect "$cfg" --format json >/dev/null

if [ -z "${NO_HYPERFINE:-}" ] && ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null 2>&1; } || true
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), dotnet $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
  # --version: the same process (runtime start-up, System.CommandLine) doing no model work.
  hyperfine --shell=none --warmup "$warmup" --runs "$runs" --style basic \
    --export-markdown "$out/inspect-process.md" --export-json "$out/inspect-process.json" \
    -n "dotnet-neural --version" "$tool --version" \
    -n "dotnet-neural inspect yolov4.cfg" "$tool inspect $cfg" \
    -n "dotnet-neural inspect yolov4.cfg --format json" "$tool inspect $cfg --format json" \
    -n "dotnet dotnet-neural.dll inspect yolov4.cfg" "dotnet $tool_dir/dotnet-neural.dll inspect $cfg"
  echo
  cat "$out/inspect-process.md"
else
  echo "hyperfine not available or NO_HYPERFINE set: timing with date +%s%N"
  measure() {
    local name=$1; shift
    local i t0 t1 ms all=()
    for ((i = 0; i < warmup; i++)); do "$@" >/dev/null; done
    for ((i = 0; i < runs; i++)); do
      t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
      all+=($(((t1 - t0) / 1000)))
    done
    printf '%s\n' "${all[@]}" | awk -v name="$name" -v n="$runs" '
      { s += $1; if (NR == 1 || $1 < mn) mn = $1; if ($1 > mx) mx = $1 }
      END { printf "| %s | %.1f | %.1f | %.1f | %d |\n", name, s / n / 1000, mn / 1000, mx / 1000, n }'
  }
  echo "| command | mean (ms) | min (ms) | max (ms) | runs |"
  echo "|---|---:|---:|---:|---:|"
  measure "dotnet-neural --version" "$tool" --version
  measure "dotnet-neural inspect yolov4.cfg" "$tool" inspect "$cfg"
  measure "dotnet-neural inspect yolov4.cfg --format json" "$tool" inspect "$cfg" --format json
  measure "dotnet dotnet-neural.dll inspect yolov4.cfg" dotnet "$tool_dir/dotnet-neural.dll" inspect "$cfg"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
