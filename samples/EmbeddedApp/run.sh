#!/usr/bin/env bash
# The sample's main command: pack NeuralBuild into a local feed, build the sample against it (which
# generates the synthetic weights, optimises, checks budgets and the baseline, embeds), then run it.
#   samples/EmbeddedApp/run.sh            build and run
#   samples/EmbeddedApp/run.sh --no-pack  reuse artifacts/feed
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${1:-}" != "--no-pack" ]; then
  rm -rf "$root/artifacts/feed"
  dotnet pack "$root/src/Tasks/NeuralBuild.Tasks.csproj" -c Release -o "$root/artifacts/feed" -v:q -nologo
fi
version="$(ls "$root/artifacts/feed" | sed -n 's/^NeuralBuild\.\([0-9].*\)\.nupkg$/\1/p' | head -1)"

# A packages folder private to the sample: a repacked NeuralBuild of the same version is never stale.
export NUGET_PACKAGES="$root/artifacts/sample-packages"
rm -rf "$NUGET_PACKAGES/neuralbuild"

cd "$here"
dotnet build -c Release -nologo -v:m "-p:NeuralBuildVersion=$version"
dotnet "bin/Release/net10.0/EmbeddedApp.dll"
