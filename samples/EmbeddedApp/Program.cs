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

// ONNX Runtime takes the model's bytes straight from the assembly: nothing is unpacked to disk.
var clock = Stopwatch.StartNew();
byte[] onnx;
using (var stream = NeuralModels.Yolov3Tiny.OpenExport())
using (var buffer = new MemoryStream())
{
    stream.CopyTo(buffer);
    onnx = buffer.ToArray();
}

using var session = new InferenceSession(onnx);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  loaded {NeuralModels.Yolov3Tiny.ExportFileName} ({onnx.Length:N0} bytes) into ONNX Runtime {OrtEnv.Instance().GetVersionString()} in {clock.Elapsed.TotalMilliseconds:0} ms"));

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

// What it found: the strongest boxes of each detection head (80 COCO classes in this cfg).
foreach (var output in outputs)
{
    var tensor = output.AsTensor<float>();
    var top = Inference.TopDetections(tensor.Dimensions, tensor.ToArray(), classes: 80, count: 3)
        .Select(d => string.Create(CultureInfo.InvariantCulture, $"class {d.Class} score {d.Score:0.###} at cell ({d.Row},{d.Column}) anchor {d.Anchor}"));
    Console.WriteLine($"  head {output.Name} [{string.Join("x", tensor.Dimensions.ToArray())}]: {string.Join("; ", top)}");
}

return 0;
