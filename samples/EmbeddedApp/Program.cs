using System.Diagnostics;
using System.Globalization;
using EmbeddedApp;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

// The fused model was optimised, checked against the budgets in EmbeddedApp.csproj and embedded
// by `dotnet build`; NeuralModels.Yolov3Tiny is the accessor the build generated for it.
var model = NeuralModels.Yolov3Tiny.DefinitionFileName;
Console.WriteLine($"{model} (model version {NeuralModels.Yolov3Tiny.ModelVersion}), as embedded by NeuralBuild:");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  input {NeuralModels.Yolov3Tiny.InputShape}, MACC {NeuralModels.Yolov3Tiny.Macc:N0}, params {NeuralModels.Yolov3Tiny.Params:N0}, weights {NeuralModels.Yolov3Tiny.WeightsBytes:N0} bytes, peak activation {NeuralModels.Yolov3Tiny.PeakActivationBytes:N0} bytes"));

// The engine reads files: unpack the embedded resources into a private temporary folder.
var work = Directory.CreateTempSubdirectory("embeddedapp-");
try
{
    var clock = Stopwatch.StartNew();
    var fusedCfg = Extract(NeuralModels.Yolov3Tiny.OpenDefinition, Path.Combine(work.FullName, NeuralModels.Yolov3Tiny.DefinitionFileName));
    var fusedWeights = Extract(NeuralModels.Yolov3Tiny.OpenWeights, Path.Combine(work.FullName, NeuralModels.Yolov3Tiny.WeightsFileName));
    var fused = ModelFormats.Read(fusedCfg, new ModelReadOptions { WeightsPath = fusedWeights });
    Console.WriteLine($"  loaded the fused model from the assembly in {clock.Elapsed.TotalMilliseconds:0} ms: {fused.Graph.Nodes.Count} nodes");

    var originalDir = Path.Combine(AppContext.BaseDirectory, "original");
    var original = ModelFormats.Read(Path.Combine(originalDir, "yolov3-tiny.cfg"), new ModelReadOptions { WeightsPath = Path.Combine(originalDir, "yolov3-tiny.weights") });
    Console.WriteLine($"  unfused original: {original.Graph.Nodes.Count} nodes");

    // A deterministic pseudo-image in [0, 1): the same input for both models.
    var (inputName, inputShape) = fused.Graph.Inputs.First();
    var input = new float[inputShape.ElementCount];
    var state = 0x9E3779B97F4A7C15UL;
    for (var i = 0; i < input.Length; i++)
    {
        state = (state ^ (state >> 30)) * 0xBF58476D1CE4E5B9UL;
        input[i] = (float)((state >> 40) / (double)(1UL << 24));
    }

    // First runs load and pack the weights and compile code; the second runs are what inference costs.
    var fusedOutputs = Inference.Run(fused, inputName, inputShape, input);
    var originalOutputs = Inference.Run(original, inputName, inputShape, input);
    clock.Restart();
    Inference.Run(fused, inputName, inputShape, input);
    var fusedTime = clock.Elapsed;
    clock.Restart();
    Inference.Run(original, inputName, inputShape, input);
    var originalTime = clock.Elapsed;
    Console.WriteLine($"  inference (warm, reference executor): fused model {fusedTime.TotalMilliseconds:0} ms, original {originalTime.TotalMilliseconds:0} ms");

    // What it found: the strongest boxes of each detection head (80 COCO classes in this cfg).
    var passed = true;
    foreach (var (name, (shape, data)) in fusedOutputs)
    {
        var top = Inference.TopDetections(shape, data, classes: 80, count: 3)
            .Select(d => string.Create(CultureInfo.InvariantCulture, $"class {d.Class} score {d.Score:0.###} at cell ({d.Row},{d.Column}) anchor {d.Anchor}"));
        Console.WriteLine($"  head {name} {shape}: {string.Join("; ", top)}");

        // The engine's verification rule: |a-b| <= 1e-5 + 1e-4 * max(|b|, rms of b's channel).
        var comparison = NeuralBuild.Engine.Pipeline.VerificationReport.Compare("fused vs original", name, shape, data, originalOutputs[name].Data, 1e-5, 1e-4);
        passed &= comparison.Passed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    fused vs original: max abs error {comparison.MaxAbsoluteError:G3}, max rel error {comparison.MaxRelativeError:G3} -> {(comparison.Passed ? "same" : "MISMATCH")}"));
    }

    Console.WriteLine(passed ? "  the fused model computes what the original computes." : "  MISMATCH between the fused and the original model.");
    var same = passed;
    return same ? 0 : 1;
}
finally
{
    work.Delete(recursive: true);
}

static string Extract(Func<Stream> open, string path)
{
    using var source = open();
    using var target = File.Create(path);
    source.CopyTo(target);
    return path;
}
