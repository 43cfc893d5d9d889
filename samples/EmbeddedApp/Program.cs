using System.Diagnostics;
using System.Globalization;
using EmbeddedApp;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// The model was optimised (BatchNorm folded), checked against the budgets in EmbeddedApp.csproj,
// exported to ONNX, proven to compute what the original Darknet model computes (read back by
// NeuralBuild and run by this project's own ONNX Runtime, on the same seeded input) and embedded by
// `dotnet build`; NeuralModels.Yolov3Tiny is the accessor the build generated for it.
var model = NeuralModels.Yolov3Tiny.DefinitionFileName;
Console.WriteLine($"{model} (model version {NeuralModels.Yolov3Tiny.ModelVersion}), as embedded by NeuralBuild:");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  input {NeuralModels.Yolov3Tiny.InputShape}, MACC {NeuralModels.Yolov3Tiny.Macc:N0}, params {NeuralModels.Yolov3Tiny.Params:N0}, weights {NeuralModels.Yolov3Tiny.WeightsBytes:N0} bytes, peak activation {NeuralModels.Yolov3Tiny.PeakActivationBytes:N0} bytes"));

// The accessor creates the ONNX Runtime session from the embedded bytes: nothing is unpacked to disk.
var clock = Stopwatch.StartNew();
using var session = NeuralModels.Yolov3Tiny.CreateSession();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  loaded {NeuralModels.Yolov3Tiny.ExportFileName} into ONNX Runtime {OrtEnv.Instance().GetVersionString()} in {clock.Elapsed.TotalMilliseconds:0} ms"));

// A deterministic pseudo-image in [0, 1).
var (inputName, inputMeta) = session.InputMetadata.First();
var dims = inputMeta.Dimensions.Select(d => d > 0 ? d : 1).ToArray();
var input = new DenseTensor<float>(dims);
var state = 0x9E3779B97F4A7C15UL;
for (var i = 0; i < input.Length; i++)
{
    state = (state ^ (state >> 30)) * 0xBF58476D1CE4E5B9UL;
    input.SetValue(i, (float)((state >> 40) / (double)(1UL << 24)));
}

var inputs = new[] { NamedOnnxValue.CreateFromTensor(inputName, input) };

// The first run allocates and plans; the second is what inference costs.
session.Run(inputs).Dispose();
clock.Restart();
using var outputs = session.Run(inputs);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  inference (warm, ONNX Runtime, CPU): {clock.Elapsed.TotalMilliseconds:0} ms"));

// What it found: the two [yolo] heads decoded into boxes (80 COCO classes; anchors and masks of
// yolov3-tiny.cfg: the 13x13 head takes anchors 3-5, the 26x26 head anchors 0-2), then non-maximum
// suppression across both heads, as darknet's detector does.
(float W, float H)[] anchors = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)];
var (inputHeight, inputWidth) = (dims[2], dims[3]);
var boxes = new List<Detection>();
foreach (var output in outputs)
{
    var tensor = output.AsTensor<float>();
    var headAnchors = tensor.Dimensions[2] == inputHeight / 32 ? anchors[3..] : anchors[..3];
    boxes.AddRange(Inference.Boxes(tensor.Dimensions, tensor.ToArray(), classes: 80, headAnchors, inputWidth, inputHeight, threshold: 0.5f));
}

var detections = Inference.NonMaximumSuppression(boxes, iou: 0.45f);
// The weights are synthetic (seed 42, no training): the boxes show the pipeline working, not objects.
Console.WriteLine($"  {boxes.Count} boxes over the threshold, {detections.Count} after non-maximum suppression; the strongest (clipped to the image):");
foreach (var d in detections.Take(5))
{
    var (left, top) = (Math.Clamp(d.X - (d.Width / 2), 0, inputWidth), Math.Clamp(d.Y - (d.Height / 2), 0, inputHeight));
    var (right, bottom) = (Math.Clamp(d.X + (d.Width / 2), 0, inputWidth), Math.Clamp(d.Y + (d.Height / 2), 0, inputHeight));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    class {d.Class,2} score {d.Score:0.000} box ({left:0},{top:0})-({right:0},{bottom:0})"));
}

return 0;
