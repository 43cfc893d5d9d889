using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Execution;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// One quantized export measured against an independent oracle: the written file run by ONNX Runtime
/// on the oracle's inputs, its outputs against the oracle's (torch for the torchvision exports,
/// libdarknet for a Darknet model), and its size against the original file and the float export.
/// </summary>
internal sealed record QuantizedFigure(string Model, string Encoding, double FileRatio, double FloatExportRatio, OutputAccuracy Accuracy, string Oracle)
{
    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"| {Model} | {Encoding} | {FileRatio:0.000} | {FloatExportRatio:0.000} | {OutputAccuracy.Percent(Accuracy.MaxRelativeError)} | {OutputAccuracy.Percent(Accuracy.MeanRelativeError)} | {(Accuracy.Top1Agreement is { } top1 ? OutputAccuracy.Percent(top1) : "—")} | {Oracle} |");
}

/// <summary>Measures <see cref="QuantizedFigure"/>s: the torchvision exports against torch, yolov3-tiny against libdarknet.</summary>
internal static class QuantizedFigures
{
    public const string Header = "| model | encoding | file / original | file / float export | max rel error | mean rel error | top-1 kept | oracle |\n|---|---|---:|---:|---:|---:|---:|---|";

    /// <summary>
    /// <paramref name="model"/> (a name of <see cref="OnnxExport.Models"/>) converted to ONNX with
    /// <c>quantize=</c><paramref name="encoding"/> (<c>int8</c> or <c>fp16</c>), run by ONNX Runtime on the
    /// inputs export_models.py gave torch, against torch's outputs (<see cref="TorchOracle"/>).
    /// </summary>
    public static QuantizedFigure AgainstTorch(string model, string encoding, string folder)
    {
        var source = OnnxExport.PathOf(model);
        var written = Convert(source, encoding, Path.Combine(folder, encoding));
        var floatExport = Convert(source, "none", Path.Combine(folder, "float"));
        var (inputs, expected) = TorchOracle.Read(source);
        var actual = inputs.Select(input => RunOnnxRuntime(written, input, [1, 3, 224, 224]).Single()).ToArray();
        var accuracy = OutputAccuracy.Measure("ONNX Runtime vs torch", "output", new Shape([inputs.Length, expected[0].Length]), Concat(actual), Concat(expected));
        return new QuantizedFigure(model, encoding, Ratio(written, source), Ratio(written, floatExport), accuracy, $"torch, {inputs.Length} seeded inputs");
    }

    /// <summary>
    /// A trained ResNet-18 (<see cref="TrainedResNet18"/>: ImageNet weights, CNTK's ONNX export, a
    /// 512-feature pooled output) converted with <paramref name="encoding"/>, run by ONNX Runtime against
    /// ONNX Runtime running the original file: the oracle is the unmodified trained model in the runtime
    /// the app ships, not NeuralBuild's executor. Inputs: 4 seeded pixel-noise images as the model takes
    /// them (BGR values in [0, 255) less its mean image's 114).
    /// </summary>
    public static QuantizedFigure TrainedResNet18AgainstItself(string encoding, string folder)
    {
        var source = TrainedResNet18;
        var written = Convert(source, encoding, Path.Combine(folder, encoding));
        var floatExport = Convert(source, "none", Path.Combine(folder, "float"));
        var random = new Numerics.SplitMix64(20261206);
        var inputs = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)random.Uniform(0, 255) - 114f).ToArray()).ToArray();
        var expected = inputs.Select(input => RunOnnxRuntime(source, input, [1, 3, 224, 224]).Single()).ToArray();
        var actual = inputs.Select(input => RunOnnxRuntime(written, input, [1, 3, 224, 224]).Single()).ToArray();
        var accuracy = OutputAccuracy.Measure("ONNX Runtime: quantized vs original", "features", new Shape([inputs.Length, expected[0].Length]), Concat(actual), Concat(expected));
        return new QuantizedFigure("ResNet-18, trained", encoding, Ratio(written, source), Ratio(written, floatExport), accuracy with { Top1Agreement = null }, "ONNX Runtime on the original, 4 seeded inputs");
    }

    /// <summary>The trained ResNet-18 of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package the test project restores (its path is stamped into the test assembly).</summary>
    public static string TrainedResNet18 { get; } = typeof(QuantizedFigures).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "TrainedResNet18").Value!;

    /// <summary>
    /// Debian's yolov3-tiny.cfg (416x416) with seeded synthetic weights (as <see cref="OnnxLibDarknetTests"/> makes it),
    /// folded and exported with <paramref name="encoding"/> (int8, int8-static or fp16), run by ONNX Runtime against libdarknet's forward pass of the
    /// original cfg and weights; the error is the worse of the two heads, relative to each head's magnitude.
    /// </summary>
    public static QuantizedFigure AgainstLibDarknet(string encoding, string folder)
    {
        var cfg = Path.Combine(TestPaths.DebianDarknetCfg, "yolov3-tiny.cfg");
        var model = DarknetTestModel.Create(cfg, folder, seed: 20240611);
        var darknet = DarknetHarness.Run(cfg, model.Weights, model.Input, folder);
        var opened = OnnxRuntimeComparison.Folded(model.Open(DarknetDialect.Pjreddie));
        var layers = ((DarknetModel)opened.SourceDocument!).Layers;
        OnnxExportResult Export(WeightQuantization quantization, string name, IReadOnlyDictionary<string, Engine.Formats.ValueRange>? ranges = null)
        {
            var result = OnnxExporter.Export(opened, Path.Combine(folder, name), new OnnxExportOptions { Quantize = quantization, ActivationRanges = ranges });
            result.ThrowIfRefused();
            return result;
        }

        // int8-static: calibrated as the pipeline does, on the input libdarknet runs (given as a .npy, as --inputs takes it).
        var ranges = encoding == "int8-static" ? ActivationCalibration.Measure(opened, OnnxActivationQuantizer.CalibratedValues(opened.Graph), Npy(folder, model.Input, model.InputShape)) : null;
        var quantized = Export(encoding == "fp16" ? WeightQuantization.Float16 : WeightQuantization.Int8, encoding + ".onnx", ranges);
        var floatExport = Export(WeightQuantization.None, "float.onnx");
        var outputs = RunOnnxRuntime(quantized.OnnxPath!, model.Input, [.. model.InputShape.Dims.Select(d => (int)d)], [.. quantized.Outputs.Select(o => o.OnnxName)]);
        var heads = darknet.Select(pair =>
        {
            var index = quantized.Outputs.ToList().FindIndex(o => o.IrValue == layers[pair.Key].Output);
            return OutputAccuracy.Measure("ONNX Runtime vs libdarknet", $"layer {pair.Key}", new Shape([pair.Value.Length]), outputs[index], pair.Value);
        }).ToList();
        var worst = heads.MaxBy(h => h.MaxRelativeError)!;
        return new QuantizedFigure("yolov3-tiny", encoding, Ratio(quantized.OnnxPath!, model.Weights), Ratio(quantized.OnnxPath!, floatExport.OnnxPath!),
            worst with { MeanRelativeError = heads.Max(h => h.MeanRelativeError) }, "libdarknet, 1 seeded input, worse of 2 heads");
    }

    /// <summary>One input as a .npy file in <paramref name="folder"/>, read back as evaluation inputs.</summary>
    private static Engine.Evaluation.EvaluationInputs Npy(string folder, float[] input, Shape shape)
    {
        var bytes = new byte[input.Length * sizeof(float)];
        Buffer.BlockCopy(input, 0, bytes, 0, bytes.Length);
        var path = Path.Combine(folder, "calibration.npy");
        File.WriteAllBytes(path, Evaluation.NpyFileTests.Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", shape.Dims)}), }}", bytes));
        return Engine.Evaluation.EvaluationInputs.FromPath(path, Engine.Evaluation.InputPreprocessing.Default);
    }

    /// <summary>The file ONNX Runtime runs, one output array per name in <paramref name="outputs"/> (null: every output, in the file's order).</summary>
    public static float[][] RunOnnxRuntime(string path, float[] input, int[] dims, string[]? outputs = null)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        var names = outputs ?? [.. session.OutputMetadata.Keys];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), new DenseTensor<float>(input, dims))], names);
        return [.. names.Select(name => results.Single(r => r.Name == name).AsTensor<float>().ToArray())];
    }

    public static string Table(IEnumerable<QuantizedFigure> figures)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var figure in figures)
        {
            sb.Append(figure.Row()).Append('\n');
        }

        return sb.ToString();
    }

    private static string Convert(string source, string quantize, string output) => ModelConverter.Convert(new ConvertRequest
    {
        DefinitionPath = source,
        To = "onnx",
        ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = quantize },
        OutputDirectory = output,
        Verify = VerifyMode.None,
    }).OutputPath;

    private static double Ratio(string written, string original) => (double)new FileInfo(written).Length / new FileInfo(original).Length;

    private static float[] Concat(float[][] parts) => [.. parts.SelectMany(p => p)];
}

/// <summary>
/// Torch's outputs of a torchvision export, written by export_models.py beside MODEL.onnx:
/// MODEL.torch-inputs.f32 (N inputs of 1x3x224x224) and MODEL.torch-outputs.f32 (the N outputs), raw float32.
/// </summary>
internal static class TorchOracle
{
    private const int InputElements = 3 * 224 * 224;

    public static (float[][] Inputs, float[][] Outputs) Read(string onnxPath)
    {
        var stem = onnxPath[..^".onnx".Length];
        var inputs = Floats(stem + ".torch-inputs.f32");
        var outputs = Floats(stem + ".torch-outputs.f32");
        var count = inputs.Length / InputElements;
        Assert.HasCount(count * InputElements, inputs, "whole inputs of 1x3x224x224");
        Assert.AreEqual(0, outputs.Length % count, "one output per input");
        var perOutput = outputs.Length / count;
        return ([.. Enumerable.Range(0, count).Select(i => inputs[(i * InputElements)..((i + 1) * InputElements)])],
            [.. Enumerable.Range(0, count).Select(i => outputs[(i * perOutput)..((i + 1) * perOutput)])]);
    }

    private static float[] Floats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * sizeof(float));
        return values;
    }
}
