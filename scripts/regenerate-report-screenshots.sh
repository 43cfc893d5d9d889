#!/usr/bin/env bash
# Regenerates the report screenshots the README shows (docs/images/report-*.png): `dotnet neural
# report` of yolov3 (route/upsample), ResNet-50 (residual; folded, on synthetic weights) and
# MobileNet-SSD (many heads), each opened in headless Chromium at 1400x900 with one layer selected.
# Needs Debian's chromium (scripts/test.sh installs it). Not run by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
chromium=${NEURALBUILD_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || { echo "chromium not found: sudo apt-get install chromium" >&2; exit 1; }

# A fixed folder: the reports show the model's path, so the same run gives the same pictures.
work=/tmp/neuralbuild-report-screenshots
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
dotnet build src/Tool -c Release -o "$work/tool" -v quiet -nologo >/dev/null
dotnet build tools/SyntheticWeights -c Release -o "$work/weights" -v quiet -nologo >/dev/null
neural() { dotnet "$work/tool/dotnet-neural.dll" "$@"; }

cp corpus/darknet/yolov3.cfg corpus/caffe/resnet50.deploy.prototxt corpus/caffe/mobilenet_ssd.deploy.prototxt "$work/"
dotnet "$work/weights/NeuralBuild.SyntheticWeights.dll" "$work/resnet50.deploy.prototxt" "$work/resnet50.deploy.caffemodel" 7 >/dev/null

neural report "$work/yolov3.cfg" -o "$work/yolov3.html"
# Synthetic BatchNorm variances are tiny in places: NM2003 warnings, expected here.
neural report "$work/resnet50.deploy.prototxt" --fold -o "$work/resnet50.html" 2>/dev/null
neural report "$work/mobilenet_ssd.deploy.prototxt" -o "$work/mobilenet-ssd.html"

shoot() { # name, layer to select
  "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1400,900 \
    --screenshot="docs/images/report-$1.png" "file://$work/$1.html#layer=$2" >/dev/null 2>&1
  echo "docs/images/report-$1.png: $(stat -c %s "docs/images/report-$1.png") bytes"
}
mkdir -p docs/images
shoot yolov3 86          # [route] layers = -1, 61: the upsampled branch joins layer 61
shoot resnet50 12        # res2a: the first residual join, its BatchNorm and Scale folded away
shoot mobilenet-ssd 91   # conv11, where the first detection heads branch off
