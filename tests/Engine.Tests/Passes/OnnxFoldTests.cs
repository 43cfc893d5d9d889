using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxFoldHarness;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Folds on ONNX graphs, end to end: read, fold, write, read back. Each random case runs the
/// original graph (before any pass) and the written file on the same seeded input and compares;
/// the written file must also pass onnx.checker. The hand-worked cases use the numbers of
/// <see cref="CaffeFoldTests"/>: 1x1 conv, one input channel, weights (2, -1); BatchNormalization
/// epsilon 1, mean (2, 0), var (3, 8), so D = sqrt(var + 1) = (2, 3); gamma (4, 3), beta (1, -2):
/// a = gamma / D = (2, 1), W' = (4, -1), b' = a * (0 - mean) + beta = (-3, -2).
/// </summary>
[TestClass]
public sealed class OnnxFoldTests
{
    private static readonly TensorProto[] HandBn =
    [
        Values("bn.scale", [2], 4, 3),
        Values("bn.bias", [2], 1, -2),
        Values("bn.mean", [2], 2, 0),
        Values("bn.var", [2], 3, 8),
    ];

    [TestMethod]
    public void Conv_and_batchnorm_fold_by_hand_with_the_nodes_epsilon()
    {
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 1, 1)), BatchNorm("bn", "c", "y", "bn", epsilon: 1)],
            [Values("w", [2, 1, 1, 1], 2, -1), .. HandBn],
            inputDims: [1, 1, 2, 2]);

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { 4f, -1f }, WrittenInput(outcome, "Conv", 1));
        CollectionAssert.AreEqual(new[] { -3f, -2f }, WrittenInput(outcome, "Conv", 2));
        CollectionAssert.AreEqual(new[] { "Conv" }, outcome.WrittenOps.ToArray());
        Assert.AreEqual("y", outcome.WrittenProto.Graph.Node.Single().Output.Single(), "the model output keeps its name");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void Gemm_with_transB_0_scales_the_columns_of_B_by_hand()
    {
        // B is (K=2, N=2) = [[1, 2], [3, 4]]; output channel n is column n: a = (2, 1) doubles column 0.
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Gemm", "fc", ["x", "b"], ["g"]), BatchNorm("bn", "g", "y", "bn", epsilon: 1)],
            [Values("b", [2, 2], 1, 2, 3, 4), .. HandBn],
            inputDims: [1, 2]);

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { 2f, 2f, 6f, 4f }, WrittenInput(outcome, "Gemm", 1));
        CollectionAssert.AreEqual(new[] { -3f, -2f }, WrittenInput(outcome, "Gemm", 2));
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void Gemm_with_transB_1_scales_the_rows_of_B_by_hand()
    {
        // B is (N=2, K=2) = [[1, 2], [3, 4]]; output channel n is row n: a = (2, 1) doubles row 0.
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Gemm", "fc", ["x", "b"], ["g"], Int("transB", 1)), BatchNorm("bn", "g", "y", "bn", epsilon: 1)],
            [Values("b", [2, 2], 1, 2, 3, 4), .. HandBn],
            inputDims: [1, 2]);

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { 2f, 4f, 3f, 4f }, WrittenInput(outcome, "Gemm", 1));
        CollectionAssert.AreEqual(new[] { -3f, -2f }, WrittenInput(outcome, "Gemm", 2));
        OnnxChecker.Check(outcome.WrittenPath);
    }

    /// <summary>The producer of each random case: x (1, 4, 6, 6) or (1, 6) → producer → "p" with 6 channels.</summary>
    private static (NodeProto Node, TensorProto[] Weights, long[] Input) Producer(string kind) => kind switch
    {
        "conv" => (Node("Conv", "conv", ["x", "w", "b"], ["p"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
            [Random("w", 1, -0.5, 0.5, 6, 4, 3, 3), Random("b", 2, -0.5, 0.5, 6)], [1, 4, 6, 6]),
        "conv-without-bias" => (Node("Conv", "conv", ["x", "w"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2)),
            [Random("w", 1, -0.5, 0.5, 6, 4, 3, 3)], [1, 4, 7, 7]),
        "grouped-conv" => (Node("Conv", "conv", ["x", "w"], ["p"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 2)),
            [Random("w", 1, -0.5, 0.5, 6, 2, 3, 3)], [1, 4, 6, 6]),
        "depthwise-conv" => (Node("Conv", "conv", ["x", "w", "b"], ["p"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 6)),
            [Random("w", 1, -0.5, 0.5, 6, 1, 3, 3), Random("b", 2, -0.5, 0.5, 6)], [1, 6, 6, 6]),
        "grouped-conv-transpose" => (Node("ConvTranspose", "deconv", ["x", "w"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("group", 2)),
            [Random("w", 1, -0.5, 0.5, 4, 3, 3, 3)], [1, 4, 5, 5]),
        "conv-transpose-with-bias" => (Node("ConvTranspose", "deconv", ["x", "w", "b"], ["p"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
            [Random("w", 1, -0.5, 0.5, 4, 6, 2, 2), Random("b", 2, -0.5, 0.5, 6)], [1, 4, 5, 5]),
        "gemm-transB-0" => (Node("Gemm", "fc", ["x", "w", "b"], ["p"]),
            [Random("w", 1, -0.5, 0.5, 10, 6), Random("b", 2, -0.5, 0.5, 6)], [1, 10]),
        "gemm-transB-1" => (Node("Gemm", "fc", ["x", "w"], ["p"], Int("transB", 1)),
            [Random("w", 1, -0.5, 0.5, 6, 10)], [1, 10]),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    [TestMethod]
    [DataRow("conv")]
    [DataRow("conv-without-bias")]
    [DataRow("grouped-conv")]
    [DataRow("depthwise-conv")]
    [DataRow("grouped-conv-transpose")]
    [DataRow("conv-transpose-with-bias")]
    [DataRow("gemm-transB-0")]
    [DataRow("gemm-transB-1")]
    public void Batchnorm_after_the_producer_folds_and_the_written_model_computes_the_original(string kind)
    {
        using var dir = new TempDirectory();
        var (producer, weights, input) = Producer(kind);
        var model = Model(13,
            [producer, BatchNorm("bn", "p", "n", "bn", epsilon: 1e-3f), Node("Relu", "relu", ["n"], ["y"])],
            [.. weights, .. BatchNormParameters("bn", 6, 10)],
            inputDims: input);

        var outcome = FoldAndWrite(dir, model);

        Assert.AreEqual("FoldBatchNorm", outcome.Report.Applied.Single().Pass, outcome.Events);
        CollectionAssert.DoesNotContain(outcome.WrittenOps.ToList(), "BatchNormalization");
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        var expected = Run(outcome.Original, x)[0];
        AssertClose(expected, Run(outcome.Written, x)[0], $"{kind}: written file");
        AssertClose(expected, Run(outcome.Folded, x)[0], $"{kind}: folded graph");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    /// <summary>The conv alone (same weights), the reference the Mul/Add cases are computed from by hand.</summary>
    private static Tensor ConvAlone(TempDirectory dir, Tensor x)
    {
        var (conv, weights, input) = Producer("conv");
        var alone = FoldAndWrite(dir, Model(13, [conv], weights, inputDims: input, outputs: "p"));
        return Run(alone.Original, x)[0];
    }

    [TestMethod]
    public void Constant_per_channel_mul_then_add_fold_into_the_conv()
    {
        // y[c] = conv[c] * s[c] + t[c], s of shape [C, 1, 1], t of shape [1, C, 1, 1].
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        float[] s = [0.5f, -2f, 3f, 1.25f, -0.75f, 2f];
        float[] t = [1f, -1f, 0.5f, 0f, 2f, -3f];
        var model = Model(13,
            [conv, Node("Mul", "mul", ["p", "s"], ["m"]), Node("Add", "add", ["m", "t"], ["y"])],
            [.. weights, Values("s", [6, 1, 1], s), Values("t", [1, 6, 1, 1], t)],
            inputDims: input);

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { "FoldChannelMulAdd", "FoldChannelMulAdd" }, outcome.Report.Applied.Select(e => e.Pass).ToArray(), outcome.Events);
        CollectionAssert.AreEqual(new[] { "Conv" }, outcome.WrittenOps.ToArray());
        var layers = Verifier.VerifyFolds(outcome.Report, 1e-5, 1e-4);
        Assert.IsTrue(layers.Passed && layers.Comparisons.Count == 2, layers.Summary());
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        var p = ConvAlone(dir, x);
        var expected = new Tensor(p.Shape, [.. p.Data.Select((v, i) => (v * s[(i / 36) % 6]) + t[(i / 36) % 6])]);
        AssertClose(expected, Run(outcome.Written, x)[0], "written file");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_scalar_on_the_left_of_mul_and_a_per_channel_divisor_fold()
    {
        // y[c] = (k * conv[c]) / d[c] with k a scalar (rank 0) on the left.
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        float[] d = [2f, -4f, 0.5f, 8f, 1f, -1f];
        var model = Model(13,
            [conv, Node("Mul", "mul", ["k", "p"], ["m"]), Node("Div", "div", ["m", "d"], ["y"])],
            [.. weights, Values("k", [], 3f), Values("d", [1, 6, 1, 1], d)],
            inputDims: input);

        var outcome = FoldAndWrite(dir, model);

        Assert.AreEqual(2, outcome.Report.Applied.Count(), outcome.Events);
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        var p = ConvAlone(dir, x);
        var expected = new Tensor(p.Shape, [.. p.Data.Select((v, i) => 3f * v / d[(i / 36) % 6])]);
        AssertClose(expected, Run(outcome.Written, x)[0], "written file");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_batchnorm_behind_a_per_channel_mul_folds_once_the_mul_has()
    {
        // Conv -> Mul(s) -> BN -> Relu: the BN has a conv before it only after the Mul folded (second round).
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        var model = Model(13,
            [conv, Node("Mul", "mul", ["p", "s"], ["m"]), BatchNorm("bn", "m", "bn_out", "bn"), Node("Relu", "relu", ["bn_out"], ["y"])],
            [.. weights, Random("s", 41, -2, 2, 6, 1, 1), .. BatchNormParameters("bn", 6, 43)],
            inputDims: input);

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { "FoldChannelMulAdd", "FoldBatchNorm" }, outcome.Report.Applied.Select(e => e.Pass).ToArray(), outcome.Events);
        Assert.IsFalse(outcome.Report.NotApplied.Any(), outcome.Events);
        CollectionAssert.AreEqual(new[] { "Conv", "Relu" }, outcome.WrittenOps.ToArray());
        var layers = Verifier.VerifyFolds(outcome.Report, 1e-5, 1e-4);
        Assert.IsTrue(layers.Passed && layers.Comparisons.Count == 2, layers.Summary());
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        AssertClose(Run(outcome.Original, x)[0], Run(outcome.Written, x)[0], "written file");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_conv_output_read_by_two_nodes_does_not_fold()
    {
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        var model = Model(13,
            [conv, BatchNorm("bn", "p", "y", "bn"), Node("Mul", "mul", ["p", "s"], ["z"])],
            [.. weights, .. BatchNormParameters("bn", 6, 10), Values("s", [6, 1, 1], 1, 2, 3, 4, 5, 6)],
            inputDims: input, outputs: ["y", "z"]);

        var outcome = FoldAndWrite(dir, model);

        Assert.IsEmpty(outcome.Report.Applied.ToList(), outcome.Events);
        StringAssert.Contains(outcome.Report.NotApplied.Single(e => e.Node == "bn").Detail, "read by 2 consumers");
        StringAssert.Contains(outcome.Report.NotApplied.Single(e => e.Node == "mul").Detail, "read by 2 consumers");
        CollectionAssert.AreEqual(new[] { "Conv", "BatchNormalization", "Mul" }, outcome.WrittenOps.ToArray());
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_conv_output_that_is_a_model_output_does_not_fold()
    {
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        var model = Model(13,
            [conv, Node("Mul", "mul", ["p", "s"], ["y"])],
            [.. weights, Values("s", [6, 1, 1], 1, 2, 3, 4, 5, 6)],
            inputDims: input, outputs: ["p", "y"]);

        var outcome = FoldAndWrite(dir, model);

        Assert.IsEmpty(outcome.Report.Applied.ToList(), outcome.Events);
        StringAssert.Contains(outcome.Report.NotApplied.Single().Detail, "is a model output");
        CollectionAssert.AreEqual(new[] { "Conv", "Mul" }, outcome.WrittenOps.ToArray());
    }

    [TestMethod]
    public void A_computed_per_channel_mul_operand_does_not_fold()
    {
        // A squeeze-and-excitation gate: sigmoid(conv1x1(global pool(x))) of shape (1, 6, 1, 1).
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        var model = Model(13,
            [
                conv,
                Node("GlobalAveragePool", "pool", ["x"], ["g"]),
                Node("Conv", "gate", ["g", "gw"], ["gc"], Ints("kernel_shape", 1, 1)),
                Node("Sigmoid", "sigmoid", ["gc"], ["s"]),
                Node("Mul", "mul", ["p", "s"], ["y"]),
            ],
            [.. weights, Random("gw", 7, -1, 1, 6, 4, 1, 1)],
            inputDims: input);

        var outcome = FoldAndWrite(dir, model);

        Assert.IsEmpty(outcome.Report.Applied.ToList(), outcome.Events);
        StringAssert.Contains(outcome.Report.NotApplied.Single(e => e.Node == "mul").Detail, "computed by the graph, not a constant");
        CollectionAssert.Contains(outcome.WrittenOps.ToList(), "Mul");
    }

    [TestMethod]
    public void A_constant_that_varies_along_a_spatial_axis_does_not_fold()
    {
        using var dir = new TempDirectory();
        var (conv, weights, input) = Producer("conv");
        var model = Model(13,
            [conv, Node("Add", "add", ["p", "t"], ["y"])],
            [.. weights, Random("t", 3, -1, 1, 1, 1, 1, 6)],
            inputDims: input);

        var outcome = FoldAndWrite(dir, model);

        StringAssert.Contains(outcome.Report.NotApplied.Single().Detail, "varies along axis 3");
    }

    [TestMethod]
    public void Per_channel_shapes_are_recognised()
    {
        var output = Shape.Nchw(1, 6, 4, 4);
        Assert.IsTrue(FoldChannelMulAdd.PerChannel(output, new Shape(), out _));
        Assert.IsTrue(FoldChannelMulAdd.PerChannel(output, new Shape(1), out _));
        Assert.IsTrue(FoldChannelMulAdd.PerChannel(output, new Shape(6, 1, 1), out _));
        Assert.IsTrue(FoldChannelMulAdd.PerChannel(output, new Shape(1, 6, 1, 1), out _));
        Assert.IsFalse(FoldChannelMulAdd.PerChannel(output, new Shape(6), out _), "[C] lines up with the width");
        Assert.IsFalse(FoldChannelMulAdd.PerChannel(output, new Shape(6, 4, 1), out _));
        Assert.IsFalse(FoldChannelMulAdd.PerChannel(output, new Shape(1, 1, 6, 1, 1), out _), "a fifth axis would change the output");
        Assert.IsTrue(FoldChannelMulAdd.PerChannel(new Shape(1, 6), new Shape(6), out _), "after an FC, [C] is the channel axis");
    }
}
