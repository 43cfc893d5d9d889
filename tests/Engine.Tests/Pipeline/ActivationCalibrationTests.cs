using Google.Protobuf;
using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Evaluation;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Formats.Onnx.Export;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// <see cref="ActivationCalibration"/>: ranges kept across inputs (the least of one file, the greatest
/// of another), worked by hand for a 1x1 conv; a folder of .npy inputs changes the ranges the seeded
/// input gives, and with them the scale int8-static writes.
/// </summary>
[TestClass]
public sealed class ActivationCalibrationTests
{
    /// <summary>x (1x2x1x3) → Conv 2→1, 1x1, W = [0.5, -0.25], b = 0.1 → y.</summary>
    private static ModelProto OneByOneConv() => OnnxActivationQuantizationTests.OneByOneConvProto();

    /// <summary>A little-endian float32 .npy of shape 1x2x1x3.</summary>
    private static byte[] Npy(params float[] values)
    {
        var data = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        return NpyFileTests.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 3), }", data);
    }

    [TestMethod]
    public void Ranges_run_over_every_file_of_a_folder_and_differ_from_the_seeded_inputs()
    {
        using var temp = new TempDirectory();
        var model = TinyOnnx.Read(OneByOneConv(), temp.Combine("conv.onnx"));
        Directory.CreateDirectory(temp.Combine("calibration"));
        // a.npy: x0 = [1, 2, 3], x1 = 0: y = 0.5 x0 + 0.1 = [0.6, 1.1, 1.6].
        // b.npy: x0 = [-4, 0, 0], x1 = [8, 0, 0]: y = [-2 - 2 + 0.1, 0.1, 0.1] = [-3.9, 0.1, 0.1].
        _ = temp.Write(Path.Combine("calibration", "a.npy"), Npy(1, 2, 3, 0, 0, 0));
        _ = temp.Write(Path.Combine("calibration", "b.npy"), Npy(-4, 0, 0, 8, 0, 0));
        var folder = EvaluationInputs.FromPath(temp.Combine("calibration"), InputPreprocessing.Default);

        var ranges = ActivationCalibration.Measure(model, ["x", "y"], folder);

        Assert.AreEqual(new Engine.Formats.ValueRange(-4f, 8f), ranges["x"]);
        Assert.AreEqual(-3.9f, ranges["y"].Min, 1e-6f, "from b.npy");
        Assert.AreEqual(1.6f, ranges["y"].Max, 1e-6f, "from a.npy");

        // The seeded synthetic input is uniform in [-1, 1).
        var seeded = ActivationCalibration.Measure(model, ["x"])["x"];
        Assert.IsTrue(seeded.Min >= -1 && seeded.Max < 1, seeded.ToString());
    }

    [TestMethod]
    public void A_value_a_later_layer_overwrites_in_place_is_ranged_as_it_was_computed()
    {
        // y → Relu → z: the executor computes the Relu in y's buffer. Calibration reads y when the
        // conv computes it, so its range keeps b.npy's -3.9, which the Relu then clips to 0.
        using var temp = new TempDirectory();
        var proto = OneByOneConv();
        proto.Graph.Node.Add(TinyOnnx.Node("Relu", "relu", ["y"], ["z"]));
        proto.Graph.Output.Clear();
        proto.Graph.Output.Add(new ValueInfoProto { Name = "z" });
        var model = TinyOnnx.Read(proto, temp.Combine("conv-relu.onnx"));
        _ = temp.Write("b.npy", Npy(-4, 0, 0, 8, 0, 0));

        var ranges = ActivationCalibration.Measure(model, ["y", "z"], EvaluationInputs.FromPath(temp.Combine("b.npy"), InputPreprocessing.Default));

        Assert.AreEqual(-3.9f, ranges["y"].Min, 1e-6f, "y before the Relu overwrote it");
        Assert.AreEqual(0f, ranges["z"].Min, "the Relu's output, widened to include 0");
        Assert.AreEqual(0.1f, ranges["z"].Max, 1e-6f);
    }

    [TestMethod]
    public void Convert_calibrates_on_the_evaluation_inputs_it_is_given()
    {
        using var temp = new TempDirectory();
        var source = temp.Combine("conv.onnx");
        File.WriteAllBytes(source, OneByOneConv().ToByteArray());
        Directory.CreateDirectory(temp.Combine("calibration"));
        _ = temp.Write(Path.Combine("calibration", "a.npy"), Npy(1, 2, 3, 0, 0, 0));
        _ = temp.Write(Path.Combine("calibration", "b.npy"), Npy(-4, 0, 0, 8, 0, 0));
        float InputScale(string output, EvaluationInputs? inputs)
        {
            var result = ModelConverter.Convert(new ConvertRequest
            {
                DefinitionPath = source,
                To = "onnx",
                ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8-static" },
                EvaluationInputs = inputs,
                OutputDirectory = temp.Combine(output),
            });
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OutputPath));
            var quantize = proto.Graph.Node.Single(n => n.OpType == "QuantizeLinear" && n.Input[0] == "x");
            return proto.Graph.Initializer.Single(t => t.Name == quantize.Input[1]).FloatData.Single();
        }

        // The folder's range of x, [-4, 8]: scale 12 / 255. The seeded input's is within [-1, 1): under 2 / 255.
        Assert.AreEqual(12f / 255, InputScale("npy", EvaluationInputs.FromPath(temp.Combine("calibration"), InputPreprocessing.Default)), 1e-7f);
        Assert.IsLessThan(2f / 255, InputScale("seeded", null));
    }

    [TestMethod]
    public void The_build_measures_an_int8_static_export_and_budgets_it()
    {
        using var temp = new TempDirectory();
        _ = OnnxRuntimeComparison.Darknet(temp.Path, Net, name: "net");
        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = temp.Combine("net.cfg"),
            ExportFormat = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8-static" },
            OutputDirectory = temp.Combine("out"),
        });

        // x, conv 1 (BatchNorm folded into it), its leaky; conv 2's output is the model's: it stays float.
        Assert.HasCount(3, result.Export!.QuantizedActivations, string.Join(", ", result.Export.QuantizedActivations));
        var metrics = result.ToMetrics();
        Assert.AreEqual("int8 per channel, uint8 activations (calibrated)", metrics.Accuracy!.Encoding);
        Assert.AreEqual(result.ExportAccuracy!.Outputs.Max(o => o.MaxRelativeError), metrics.Accuracy.Worst.MaxRelativeError);
        Assert.IsGreaterThan(0, metrics.Accuracy.Worst.MaxRelativeError, "activations and weights rounded: not exact");
        // The per-layer contributions hold each layer's activations too: layer 0's weights stay float, yet x and its
        // conv's output are rounded for it; layer 1 has its 4,608 weights and its input (layer 0's leaky output).
        CollectionAssert.AreEqual(new[] { 0, 1 }, result.LayerOutputErrors.Keys.ToArray());
        Assert.IsGreaterThan(0, result.LayerOutputErrors[0], "activations alone move the output");
        var weightsOnly = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = temp.Combine("net.cfg"),
            ExportFormat = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8" },
            OutputDirectory = temp.Combine("int8"),
        });
        CollectionAssert.AreEqual(new[] { 1 }, weightsOnly.LayerOutputErrors.Keys.ToArray());
        Assert.AreNotEqual(weightsOnly.LayerOutputErrors[1], result.LayerOutputErrors[1], "int8-static's layer 1 rounds its input as well as its weights");
    }

    /// <summary>Two convs: the first's 432 weights stay float, the second's 4,608 are quantized; both convs' inputs are, and the first's output.</summary>
    private const string Net = "[net]\nwidth=8\nheight=8\nchannels=3\n\n"
        + "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
        + "[convolutional]\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=linear\n";
}
