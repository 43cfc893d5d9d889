#!/usr/bin/env bash
# What NeuralBuild adds to a no-op build: a console project with three models (the sample's
# yolov3-tiny plus bench/Build/small.cfg and medium.cfg), built once, then built again N times
# unchanged with MSBuild's performance summary. Prints, per run, the time of NeuralBuild's targets
# (sum of the _Neural* lines of the Target Performance Summary) and the whole build's wall time,
# and the same project's no-op wall time without the models.
#   bench/Build/run.sh [N=10]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${1:-10}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work="$(mktemp -d /tmp/nb-bench-build-XXXXXX)"
trap 'rm -rf "$work"' EXIT
export NUGET_PACKAGES="$work/packages"

dotnet pack "$root/src/Tasks/NeuralBuild.Tasks.csproj" -c Release -o "$work/feed" -v:q -nologo >/dev/null
version="$(ls "$work/feed" | sed -n 's/^NeuralBuild\.\([0-9].*\)\.nupkg$/\1/p' | head -1)"

app="$work/app"
mkdir -p "$app"
cp "$root/samples/EmbeddedApp/yolov3-tiny.cfg" "$here/small.cfg" "$here/medium.cfg" "$app/"
for m in yolov3-tiny small medium; do
  dotnet run --project "$root/tools/SyntheticWeights" -c Release -- "$app/$m.cfg" "$app/$m.weights" 1 >/dev/null
done
cat > "$app/nuget.config" <<XML
<configuration><packageSources><clear /><add key="local" value="$work/feed" /></packageSources></configuration>
XML
cat > "$app/app.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="NeuralBuild" Version="$version" />
    <NeuralModel Include="yolov3-tiny.cfg;small.cfg;medium.cfg" MaxMacc="3G" MaxPeakActivation="24MiB" Condition="'\$(BenchNoModels)' != 'true'" />
  </ItemGroup>
</Project>
XML
echo 'Console.WriteLine("bench");' > "$app/Program.cs"

cd "$app"
dotnet build -nologo -v:q >/dev/null          # first build: restore, optimise, compile
dotnet build -nologo -v:q --no-restore >/dev/null   # settle

echo "run  neural-targets-ms  wall-ms"
neural=()
wall=()
for i in $(seq 1 "$runs"); do
  out="$(dotnet build --no-restore -nologo -v:m -clp:PerformanceSummary)"
  grep -q 'Skipping target "_NeuralOptimize"' <<<"$out" || true
  n="$(awk '/Target Performance Summary:/{t=1;next} /Task Performance Summary:/{t=0} t && $3 ~ /^_Neural/ {s+=$1} END{print s+0}' <<<"$out")"
  w="$(sed -n 's/^Time Elapsed \([0-9]*\):\([0-9]*\):\([0-9.]*\)$/\1 \2 \3/p' <<<"$out" | awk '{printf "%d", ($1*3600+$2*60+$3)*1000}')"
  neural+=("$n"); wall+=("$w")
  echo "$i  $n  $w"
done
echo "$out" | awk '/Target Performance Summary:/{t=1;next} /Task Performance Summary:/{t=0;k=1;next} /Time Elapsed/{k=0} (t||k) && ($3 ~ /Neural/)' | sed 's/^/  last run: /'

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "median NeuralBuild targets: $(median "${neural[@]}") ms; median no-op wall: $(median "${wall[@]}") ms"

dotnet build -nologo -v:q --no-restore -p:BenchNoModels=true >/dev/null
bare=()
for i in $(seq 1 "$runs"); do
  out="$(dotnet build --no-restore -nologo -v:m -p:BenchNoModels=true)"
  bare+=("$(sed -n 's/^Time Elapsed \([0-9]*\):\([0-9]*\):\([0-9.]*\)$/\1 \2 \3/p' <<<"$out" | awk '{printf "%d", ($1*3600+$2*60+$3)*1000}')")
done
echo "median no-op wall without models: $(median "${bare[@]}") ms"
