#!/usr/bin/env bash
# The test command: installs the reference implementations the suite cross-checks against
# (Debian packages), then runs every test project of NeuralBuild.slnx.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# darknet: `darknet ops`, `darknet denormalize`, libdarknet.so (pjreddie fork).
# gcc: builds tests/Engine.Tests/Execution/darknet-harness.c against libdarknet (executor cross-check).
# python3-onnx, python3-torch, python3-torchvision: export_models.py exports the torchvision models
# the ONNX tests read (tests/Engine.Tests/Formats/Onnx).
# libonnx-testdata: ONNX's backend node tests (models, inputs, expected outputs) that
# OnnxBackendNodeTests runs through the reader and the reference executor (docs/onnx-backend-tests.md).
# chromium: headless, opens the HTML reports (tests/Engine.Tests/Reporting/ChromiumRenderingTests).
packages=(darknet gcc python3-onnx python3-torch python3-torchvision libonnx-testdata chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  ($sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}") \
    >/tmp/neuralbuild-apt.log 2>&1 || { echo "apt-get install ${missing[*]} failed:"; tail -20 /tmp/neuralbuild-apt.log; }
fi

dotnet test "$@"
