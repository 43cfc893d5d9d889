using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Tool.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural fuse model.onnx -o DIR</c> end to end, in its own process.</summary>
[TestClass]
public sealed class FuseCommandTests
{
    /// <summary>x (1x3x8x8) → Conv 3→4 3x3 → BatchNormalization → Relu → Dropout → y.</summary>
    private static ModelProto Model()
    {
        static TensorProto Floats(string name, long[] dims, Func<int, float> value) =>
            Values(name, dims, [.. Enumerable.Range(0, (int)dims.Aggregate(1L, (a, b) => a * b)).Select(value)]);

        var model = TinyOnnx.Model(
            13,
            [
                Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("BatchNormalization", "batchnormalization", ["c", "gamma", "beta", "mean", "var"], ["b"]),
                Node("Relu", "relu", ["b"], ["r"]),
                Node("Dropout", "dropout", ["r"], ["y"]),
            ],
            [
                Floats("w", [4, 3, 3, 3], i => ((i * 37 % 17) - 8) / 16f),
                Floats("gamma", [4], i => 0.5f + (i * 0.25f)),
                Floats("beta", [4], i => i - 1.5f),
                Floats("mean", [4], i => (i * 0.1f) - 0.2f),
                Floats("var", [4], i => 0.5f + i),
            ]);
        model.Graph.Output[0] = Value("y", [1, 4, 8, 8]);
        return model;
    }

    [TestMethod]
    public void Fuse_writes_the_onnx_model_without_batchnorm_and_dropout_and_reports_it()
    {
        using var temp = new TempDirectory();
        temp.Write("net.onnx", Model().ToByteArray());

        var run = ToolProcess.Run(temp.Path, ["fuse", "net.onnx", "-o", "out", "--verify", "model"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var written = Path.Combine(temp.Path, "out", "net.onnx");
        StringAssert.Contains(run.Stdout, $"written: {written}\n");
        StringAssert.Contains(run.Stdout, "- RemoveDropout: 1 at layers 3");
        StringAssert.Contains(run.Stdout, "- FoldBatchNorm: 1 at layers 1");
        StringAssert.Contains(run.Stdout, "layers removed: 1, 3");
        StringAssert.Contains(run.Stdout, "verification (Model");
        StringAssert.Contains(run.Stdout, "passed");
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(temp.Path, "out", "fuse-report.md")));

        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(written)).Graph;
        CollectionAssert.AreEqual(new[] { "Conv", "Relu" }, graph.Node.Select(n => n.OpType).ToArray());
        Assert.AreEqual("y", graph.Node[^1].Output.Single(), "the model output keeps its name");
        Assert.HasCount(3, graph.Node[0].Input, "the conv gained a bias");
        CollectionAssert.AreEquivalent(new[] { "conv/folded_weights", "conv/folded_bias" }, graph.Initializer.Select(i => i.Name).ToArray());
        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "net.onnx")), "the source stays");
    }

    /// <summary>
    /// x (1x3x8x8) → Conv 3→4 3x3 pad 1 → BatchNormalization (gamma and beta 0 on channel 2) → Relu →
    /// Conv 1x1 4→2 → y: channel 2 is 0 everywhere.
    /// </summary>
    [TestMethod]
    public void Fuse_with_prune_dead_channels_removes_the_zeroed_channel_and_reports_the_savings_per_layer()
    {
        using var temp = new TempDirectory();
        var model = TinyOnnx.Model(
            13,
            [
                Node("Conv", "conv", ["x", "w", "b"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("BatchNormalization", "bn", ["c", "gamma", "beta", "mean", "var"], ["n"]),
                Node("Relu", "relu", ["n"], ["r"]),
                Node("Conv", "head", ["r", "w2", "b2"], ["y"], Ints("kernel_shape", 1, 1)),
            ],
            [
                Random("w", 1, -0.5, 0.5, 4, 3, 3, 3), Random("b", 2, -0.5, 0.5, 4),
                Values("gamma", [4], 1f, 0.5f, 0f, 2f), Values("beta", [4], 0.1f, -0.2f, 0f, 0.3f),
                Values("mean", [4], 0f, 0.1f, 0.2f, -0.1f), Values("var", [4], 1f, 2f, 0.5f, 1.5f),
                Random("w2", 3, -0.5, 0.5, 2, 4, 1, 1), Random("b2", 4, -0.5, 0.5, 2),
            ]);
        model.Graph.Output[0] = Value("y", [1, 2, 8, 8]);
        temp.Write("net.onnx", model.ToByteArray());

        var run = ToolProcess.Run(temp.Path, ["fuse", "net.onnx", "-o", "out", "--prune-dead-channels"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "## channels pruned");
        // conv: one filter of 3x3x3 plus its bias (28 params, 112 bytes), 27 MACC at each of 64 positions;
        // head: one input column of 2 outputs (2 params, 8 bytes), 2 MACC at each of 64 positions.
        StringAssert.Contains(run.Stdout, "| 0 [Conv] | conv | -1 | -0 | 28 | 1,728 | 112 |");
        StringAssert.Contains(run.Stdout, "| 3 [Conv] | head | -0 | -1 | 2 | 128 | 8 |");
        StringAssert.Contains(run.Stdout, "verification (Model");

        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(temp.Path, "out", "net.onnx"))).Graph;
        var weights = graph.Initializer.Single(t => t.Name == graph.Node[0].Input[1]);
        CollectionAssert.AreEqual(new long[] { 3, 3, 3, 3 }, weights.Dims.ToArray());
    }

    [TestMethod]
    public void Fuse_with_low_rank_fc_on_onnx_says_the_writer_cannot_add_a_layer_and_a_bad_target_is_NM0320()
    {
        using var temp = new TempDirectory();
        var model = TinyOnnx.Model(13, [Node("Gemm", "fc", ["x", "w", "b"], ["y"], Int("transB", 1))],
            [Random("w", 1, -0.5, 0.5, 32, 64), Random("b", 2, -0.5, 0.5, 32)], inputDims: [1, 64]);
        model.Graph.Output[0] = Value("y", [1, 32]);
        temp.Write("fc.onnx", model.ToByteArray());

        var run = ToolProcess.Run(temp.Path, ["fuse", "fc.onnx", "-o", "out", "--low-rank-fc", "rank:2"]);
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "LowRankFullyConnected: the ONNX writer cannot express a new FullyConnected node");

        var bad = ToolProcess.Run(temp.Path, ["fuse", "fc.onnx", "-o", "out", "--low-rank-fc", "99%"]);
        Assert.AreEqual(1, bad.ExitCode, bad.ToString());
        StringAssert.Contains(bad.Stderr, "error NM0320");
    }
}
