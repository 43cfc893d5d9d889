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
/// contribution rounds the activations that count for it, worked by hand for two 1x1 convs with stated calibrations.
/// </summary>
[TestClass]
public sealed class ActivationRoundingTests
{
    // x (1x1x1x4) → conv1: y = 2 x + 0.1 → conv2: z = -1.5 y + 0.05 → z (the output).
    private static Model TwoConvs(string folder) => TinyOnnx.Read(
        TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "conv1", ["x", "w1", "b1"], ["y"], TinyOnnx.Ints("kernel_shape", 1, 1)),
                TinyOnnx.Node("Conv", "conv2", ["y", "w2", "b2"], ["z"], TinyOnnx.Ints("kernel_shape", 1, 1)),
            ],
            [TinyOnnx.Values("w1", [1, 1, 1, 1], 2f), TinyOnnx.Values("b1", [1], 0.1f), TinyOnnx.Values("w2", [1, 1, 1, 1], -1.5f), TinyOnnx.Values("b2", [1], 0.05f)],
            inputDims: [1, 1, 1, 4], outputs: "z"),
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
        var proto = TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "conv1", ["x", "w1", "b1"], ["y"], TinyOnnx.Ints("kernel_shape", 1, 1)),
                TinyOnnx.Node("Conv", "conv2", ["y", "w2", "b2"], ["z"], TinyOnnx.Ints("kernel_shape", 1, 1)),
            ],
            [TinyOnnx.Values("w1", [1, 1, 1, 1], 2f), TinyOnnx.Values("b1", [1], 0.1f), TinyOnnx.Values("w2", [1, 1, 1, 1], -1.5f), TinyOnnx.Values("b2", [1], 0.05f)],
            inputDims: [1, 1, 1, 4], outputs: ["y", "z"]);
        var model = TinyOnnx.Read(proto, temp.Combine("two-outputs.onnx"));
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
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        var weights = Path.Combine(fixture.Folder, "yolov3-tiny.weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), weights, new SyntheticWeightsOptions { Seed = 5 });
        IReadOnlyDictionary<int, double> Contributions(string quantize) => ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = weights,
            InputShape = Shape.Nchw(1, 3, 96, 96),
            ExportFormat = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = quantize },
            OutputDirectory = Path.Combine(fixture.Folder, quantize),
        }).LayerOutputErrors;

        var int8 = Contributions("int8");
        var calibrated = Contributions("int8-static");
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

    public TestContext TestContext { get; set; } = null!;
}
