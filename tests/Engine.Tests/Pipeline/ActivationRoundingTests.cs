using System.Globalization;
using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Evaluation;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// <see cref="ActivationRounding"/> as <see cref="Verifier.LayerOutputErrors"/> uses it (int8-static): each layer's
/// contribution rounds the activations that count for it, worked by hand for two 1x1 convs with stated calibrations;
/// on yolov3-tiny, larger than the weights' alone, and the largest equal to ONNX Runtime's with that layer alone quantized.
/// </summary>
[TestClass]
public sealed class ActivationRoundingTests
{
    // x (1x1x1x4) → conv1: y = 2 x + 0.1 → conv2: z = -1.5 y + 0.05 → z (the output; and y, when asked for).
    private static Model TwoConvs(string folder, params string[] outputs) => TinyOnnx.Read(
        TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "conv1", ["x", "w1", "b1"], ["y"], TinyOnnx.Ints("kernel_shape", 1, 1)),
                TinyOnnx.Node("Conv", "conv2", ["y", "w2", "b2"], ["z"], TinyOnnx.Ints("kernel_shape", 1, 1)),
            ],
            [TinyOnnx.Values("w1", [1, 1, 1, 1], 2f), TinyOnnx.Values("b1", [1], 0.1f), TinyOnnx.Values("w2", [1, 1, 1, 1], -1.5f), TinyOnnx.Values("b2", [1], 0.05f)],
            inputDims: [1, 1, 1, 4], outputs: outputs.Length > 0 ? outputs : ["z"]),
        Path.Combine(folder, "two-convs.onnx"));

    private static readonly double[] X = [0.31, -0.4, 2.6, 0.72];

    /// <summary>QuantizeLinear then DequantizeLinear onto uint8, written out here: (clamp(round_half_even(v / scale) + zp, 0, 255) - zp) * scale.</summary>
    private static double RoundTrip(double v, double scale, int zeroPoint) =>
        (Math.Clamp(Math.Round(v / scale, MidpointRounding.ToEven) + zeroPoint, 0, 255) - zeroPoint) * scale;

    private static double MaxRelativeError(double[] actual, double[] expected) =>
        actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max() / expected.Max(Math.Abs);

    [TestMethod]
    public void Each_layer_alone_rounds_its_input_and_the_output_it_shares_counts_for_its_reader()
    {
        using var temp = new TempDirectory();
        var model = TwoConvs(temp.Path);
        var (conv1, conv2) = (model.Graph.Nodes[0].Origin, model.Graph.Nodes[1].Origin);
        var input = temp.Write("x.npy", NpyFileTests.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 4), }",
            [.. X.SelectMany(v => BitConverter.GetBytes((float)v))]));
        // Stated calibrations: x over [-1, 2]: scale 3/255, zero point round(1 / (3/255)) = 85; y (conv1's output,
        // written rounded, read by conv2) over [-2, 3.1]: scale 5.1/255 = 0.02, zero point round(2 / 0.02) = 100.
        LossyActivation[] activations =
        [
            new("x", 3f / 255, 85, Producer: null, Readers: [conv1]),
            new("y", 0.02f, 100, Producer: conv1, Readers: [conv2]),
        ];
        // conv2's weight as if stored as int8: -1.49.
        LossyWeight[] weights = [new(conv2, "w2", "int8 per channel", 4, 1, 0.0067) { Stored = new ArrayData([-1.49f]) }];

        var errors = Verifier.LayerOutputErrors(model, weights, activations, inputs: EvaluationInputs.FromPath(input, InputPreprocessing.Default));

        double[] Z(Func<double, double> roundX, double w2, Func<double, double> roundY) =>
            [.. X.Select(x => (w2 * roundY((2 * roundX(x)) + 0.1)) + 0.05)];
        var exact = Z(x => x, -1.5, y => y);
        // conv1 alone: x rounded (2.6 saturates to 2, the range's end), y exact. conv2 alone: y rounded
        // (2 * 2.6 + 0.1 = 5.3 saturates to 3.1) and its weight stored; x exact. y counts for conv2, its reader, not conv1.
        var conv1Alone = MaxRelativeError(Z(x => RoundTrip(x, 3.0 / 255, 85), -1.5, y => y), exact);
        var conv2Alone = MaxRelativeError(Z(x => x, -1.49, y => RoundTrip(y, 0.02, 100)), exact);
        CollectionAssert.AreEquivalent(new[] { conv1.Index, conv2.Index }, errors.Keys.ToArray());
        Assert.AreEqual(conv1Alone, errors[conv1.Index], 1e-5 * conv1Alone, "x saturated at 2: by hand, |-1.5 * 2 * 0.6| / 7.9 = 0.23");
        Assert.AreEqual(conv2Alone, errors[conv2.Index], 1e-5 * conv2Alone);
        Assert.IsGreaterThan(0.2, conv2Alone, "the saturated y dominates: by hand, |-1.49 * 3.1 - -1.5 * 5.3| / 7.9 = 0.42");
    }

    [TestMethod]
    public void A_value_rounded_on_the_way_into_its_reader_leaves_the_models_output_exact()
    {
        // y is a model output and conv2's input: the export rounds it on the way into conv2 only (no producer).
        using var temp = new TempDirectory();
        var model = TwoConvs(temp.Path, "y", "z");
        var conv2 = model.Graph.Nodes[1].Origin;

        var rounded = ActivationRounding.With(model.Graph, [new LossyActivation("y", 0.02f, 100, Producer: null, Readers: [conv2])]);
        var input = new Dictionary<string, Engine.Execution.Tensor>(StringComparer.Ordinal)
        {
            ["x"] = new(Shape.Nchw(1, 1, 1, 4), [.. X.Select(v => (float)v)]),
        };
        var outputs = new Engine.Execution.ReferenceExecutor(rounded).Run(input);

        for (var i = 0; i < X.Length; i++)
        {
            var y = (2 * X[i]) + 0.1;
            Assert.AreEqual(y, outputs["y"].Data[i], 1e-6, "the output as computed");
            Assert.AreEqual((-1.5 * RoundTrip(y, 0.02, 100)) + 0.05, outputs["z"].Data[i], 1e-5, "conv2 reads y rounded");
        }

        Assert.AreSame(model.Graph.Nodes[0], rounded.Nodes[0], "a node reading nothing rounded is shared");
        Assert.AreEqual("y", model.Graph.Nodes[1].Inputs[0], "the given graph is unchanged");
    }

    /// <summary>
    /// yolov3-tiny (seeded weights, 1x3x96x96) quantized int8 and int8-static: every layer whose weights both store
    /// int8 moves the output more with its activations rounded too, and the layers whose weights stay float
    /// contribute under int8-static only. The figures (docs/compression.md) are written to the test's output.
    /// </summary>
    [TestMethod]
    public void Yolov3_tiny_layers_contribute_more_with_their_activations_rounded()
    {
        using var fixture = new DarknetFixture();
        var int8 = Yolov3Tiny96(fixture, "int8").LayerOutputErrors;
        var calibrated = Yolov3Tiny96(fixture, "int8-static").LayerOutputErrors;
        foreach (var layer in calibrated.Keys.Order())
        {
            TestContext.WriteLine($"layer {layer}: int8 {(int8.TryGetValue(layer, out var e) ? e.ToString("P3", CultureInfo.InvariantCulture) : "-")}, int8-static {calibrated[layer].ToString("P3", CultureInfo.InvariantCulture)}");
        }

        Assert.IsTrue(int8.Keys.All(calibrated.ContainsKey), "every layer with int8 weights is counted under int8-static too");
        foreach (var (layer, weightsAlone) in int8)
        {
            Assert.IsGreaterThan(weightsAlone, calibrated[layer], $"layer {layer}");
        }
    }

    /// <summary>
    /// The three largest int8-static contributions of yolov3-tiny (1x3x96x96) against ONNX Runtime running the
    /// written file edited to quantize that layer alone: every other conv reads the float export's weights, and
    /// every QuantizeLinear → DequantizeLinear pair that does not count for the layer (found from the file: a pair
    /// counts for the convs that read it, else for the conv that writes it) is replaced by an Identity. The
    /// oracle is the float export in ONNX Runtime, on the seeded input both measurements use.
    /// </summary>
    [TestMethod]
    public void Yolov3_tiny_largest_contributions_match_onnx_runtime_with_that_layer_alone_quantized()
    {
        using var fixture = new DarknetFixture();
        var exact = Yolov3Tiny96(fixture, "none");
        var calibrated = Yolov3Tiny96(fixture, "int8-static");
        // The input LayerOutputErrors runs on: the verifier's seeded synthetic one.
        var input = EvaluationInputs.Synthetic(0x5EED).Load(0, Shape.Nchw(1, 3, 96, 96)).Data;
        var expected = Formats.Onnx.Export.QuantizedFigures.RunOnnxRuntime(exact.ExportPath!, input, [1, 3, 96, 96]);
        var floatModel = Engine.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(exact.ExportPath!));
        var staticBytes = File.ReadAllBytes(calibrated.ExportPath!);
        var whole = MaxRelativeError(Formats.Onnx.Export.QuantizedFigures.RunOnnxRuntime(calibrated.ExportPath!, input, [1, 3, 96, 96]), expected);
        foreach (var (layer, contribution) in calibrated.LayerOutputErrors.OrderByDescending(e => e.Value).Take(3))
        {
            var convs = calibrated.Export!.Layers.Single(l => l.Origin.Index == layer).Nodes.Where(n => n.StartsWith("Conv '", StringComparison.Ordinal)).Select(n => n[6..^1]).ToHashSet(StringComparer.Ordinal);
            var alone = Engine.Formats.Onnx.Proto.ModelProto.Parser.ParseFrom(staticBytes);
            QuantizedAlone(alone.Graph, floatModel.Graph, convs);
            var path = Path.Combine(fixture.Folder, $"layer{layer}.onnx");
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(alone));
            var actual = Formats.Onnx.Export.QuantizedFigures.RunOnnxRuntime(path, input, [1, 3, 96, 96]);
            var measured = MaxRelativeError(actual, expected);
            TestContext.WriteLine($"layer {layer}: NeuralBuild {contribution:P3}, ONNX Runtime {measured:P3}");
            // Measured: within 3e-5 of each other, relatively (layer 10: 2.48689% and 2.48695%).
            Assert.AreEqual(measured, contribution, 1e-3 * measured, $"layer {layer}");
            Assert.IsLessThan(whole, measured, "the edited file quantizes less than the whole export");
        }
    }

    /// <summary>yolov3-tiny (corpus cfg, seeded weights) at 1x3x96x96, folded and exported with quantize=<paramref name="quantize"/>.</summary>
    private static OptimizeResult Yolov3Tiny96(DarknetFixture fixture, string quantize)
    {
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        var weights = Path.Combine(fixture.Folder, "yolov3-tiny.weights");
        if (!File.Exists(weights))
        {
            DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), weights, new SyntheticWeightsOptions { Seed = 5 });
        }

        return ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = weights,
            InputShape = Shape.Nchw(1, 3, 96, 96),
            ExportFormat = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = quantize },
            OutputDirectory = Path.Combine(fixture.Folder, quantize),
        });
    }

    /// <summary>The largest over the outputs of max |actual - expected| / max |expected|.</summary>
    private static double MaxRelativeError(float[][] actual, float[][] expected) =>
        expected.Zip(actual, (e, a) => a.Zip(e, (x, y) => Math.Abs((double)x - y)).Max() / e.Max(v => Math.Abs(v))).Max();

    /// <summary>Edits <paramref name="graph"/> (an int8-static export) so that only the convs named <paramref name="alone"/> are quantized.</summary>
    private static void QuantizedAlone(Engine.Formats.Onnx.Proto.GraphProto graph, Engine.Formats.Onnx.Proto.GraphProto floatGraph, HashSet<string> alone)
    {
        var floatConvs = floatGraph.Node.Where(n => n.OpType == "Conv").ToDictionary(n => n.Name, StringComparer.Ordinal);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n, StringComparer.Ordinal);
        var readers = graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n, StringComparer.Ordinal);
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv" && !alone.Contains(n.Name)).ToList())
        {
            // The float export's weights and bias (its initializers carried over under their own names).
            var original = floatConvs[conv.Name];
            for (var i = 1; i < conv.Input.Count; i++)
            {
                var name = "float/" + original.Input[i];
                if (graph.Initializer.All(t => t.Name != name))
                {
                    var tensor = floatGraph.Initializer.Single(t => t.Name == original.Input[i]).Clone();
                    tensor.Name = name;
                    graph.Initializer.Add(tensor);
                }

                conv.Input[i] = name;
            }
        }

        foreach (var dequantize in graph.Node.Where(n => n.OpType == "DequantizeLinear" && producers.TryGetValue(n.Input[0], out var q) && q.OpType == "QuantizeLinear").ToList())
        {
            var quantize = producers[dequantize.Input[0]];
            var convReaders = readers[dequantize.Output[0]].Where(r => r.OpType == "Conv").Select(r => r.Name).ToList();
            var countsFor = convReaders.Count > 0 ? convReaders
                : producers.TryGetValue(quantize.Input[0], out var writer) ? [writer.Name] : [];
            if (!countsFor.Any(alone.Contains))
            {
                dequantize.OpType = "Identity";
                dequantize.Input.Clear();
                dequantize.Input.Add(quantize.Input[0]);
                _ = graph.Node.Remove(quantize);
            }
        }
    }

    public TestContext TestContext { get; set; } = null!;
}
