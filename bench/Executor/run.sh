#!/usr/bin/env bash
# Reference executor vs libdarknet on the same input, same run (results: bench/executor.md).
# Needs the Debian packages darknet and gcc. Usage: bench/Executor/run.sh [--cfg PATH] [--rounds N] [--iterations N]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dotnet run -c Release --project "$repo/bench/Executor" -- "$@"
