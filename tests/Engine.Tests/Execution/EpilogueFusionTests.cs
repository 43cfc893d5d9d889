using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.SyntheticWeights;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxFoldHarness;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>
/// Fusing Conv → BatchNormalization → Activation into one convolution with an epilogue is an
/// optimisation the caller asks for; it must compute exactly what running the kernels one by one
/// computes (the verifier relies on that to run optimised models fused), and without the option
/// every node runs its own kernel.
/// </summary>
[TestClass]
public sealed class EpilogueFusionTests
{
    private static readonly string WorkDir = Path.Combine(Path.GetTempPath(), $"neuralbuild-epilogue-{Environment.ProcessId}");

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }
    }

    [TestMethod]
    public void A_darknet_conv_batchnorm_leaky_gives_the_same_bits_fused_and_unfused()
    {
        // Two BN + leaky convolutions (3x3 then 1x1, as darknet's reader builds them: Conv without
        // bias, BatchNormalization in place, Activation in place) and a linear head with a bias.
        const string Cfg = """
            [net]
            width=23
            height=17
            channels=3

            [convolutional]
            batch_normalize=1
            filters=16
            size=3
            stride=1
            pad=1
            activation=leaky

            [convolutional]
            batch_normalize=1
            filters=8
            size=1
            stride=1
            pad=0
            activation=leaky

            [convolutional]
            filters=5
            size=1
            stride=1
            activation=linear
            """;
        Directory.CreateDirectory(WorkDir);
        var cfg = Path.Combine(WorkDir, "conv-bn-leaky.cfg");
        File.WriteAllText(cfg, Cfg);
        var model = DarknetTestModel.Create(cfg, WorkDir, seed: 11, residualGain: 1, inputOffset: -0.5f);
        var graph = ModelFormats.Read(cfg, new ModelReadOptions { WeightsPath = model.Weights, DarknetDialect = DarknetDialect.Pjreddie }).Graph;

        AssertFusedChains(graph, expectedChains: 2);
        AssertSameBits(graph, new Tensor(model.InputShape, model.Input));
    }

    [TestMethod]
    public void An_onnx_conv_batchnorm_relu_gives_the_same_bits_fused_and_unfused()
    {
        // Conv with a bias, BatchNormalization with its four statistics, Relu: as an exporter writes them.
        var proto = Model(
            13,
            [
                Node("Conv", "conv", ["x", "w", "b"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("BatchNormalization", "bn", ["c", "gamma", "beta", "mean", "var"], ["n"]),
                Node("Relu", "relu", ["n"], ["y"]),
            ],
            [
                Random("w", 1, -0.5, 0.5, 12, 6, 3, 3),
                Random("b", 2, -0.1, 0.1, 12),
                Random("gamma", 3, 0.5, 1.5, 12),
                Random("beta", 4, -0.2, 0.2, 12),
                Random("mean", 5, -0.3, 0.3, 12),
                Random("var", 6, 0.01, 2, 12),
            ],
            inputDims: [1, 6, 19, 21]);
        var graph = Read(proto).Graph;

        AssertFusedChains(graph, expectedChains: 1);
        AssertSameBits(graph, RandomInput(graph, seed: 7));
    }

    [TestMethod]
    public void An_onnx_depthwise_conv_batchnorm_relu_gives_the_same_bits_fused_and_unfused()
    {
        // Depthwise convolutions (MobileNet) take their own path, which applies the epilogue per channel plane.
        var proto = Model(
            13,
            [
                Node("Conv", "dw", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2), Int("group", 8)),
                Node("BatchNormalization", "bn", ["c", "gamma", "beta", "mean", "var"], ["n"]),
                Node("Relu", "relu", ["n"], ["y"]),
            ],
            [
                Random("w", 11, -0.5, 0.5, 8, 1, 3, 3),
                Random("gamma", 12, 0.5, 1.5, 8),
                Random("beta", 13, -0.2, 0.2, 8),
                Random("mean", 14, -0.3, 0.3, 8),
                Random("var", 15, 0.01, 2, 8),
            ],
            inputDims: [1, 8, 25, 22]);
        var graph = Read(proto).Graph;

        AssertFusedChains(graph, expectedChains: 1);
        AssertSameBits(graph, RandomInput(graph, seed: 8));
    }

    [TestMethod]
    public void A_caffe_conv_batchnorm_scale_relu_gives_the_same_bits_fused_and_unfused()
    {
        // Caffe's own pattern: BatchNorm (statistics only) and Scale in place on the conv's top,
        // then ReLU; a second conv feeds a ReLU straight away.
        const string Prototxt = """
            name: "conv-bn-relu"
            input: "data"
            input_shape { dim: 1 dim: 4 dim: 15 dim: 18 }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
                    convolution_param { num_output: 10 kernel_size: 3 pad: 1 bias_term: false } }
            layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
            layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
            layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
            layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
                    convolution_param { num_output: 6 kernel_size: 1 } }
            layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
            """;
        Directory.CreateDirectory(WorkDir);
        var prototxt = Path.Combine(WorkDir, "conv-bn-relu.prototxt");
        File.WriteAllText(prototxt, Prototxt);
        var weights = Path.Combine(WorkDir, "conv-bn-relu.caffemodel");
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), weights, new SyntheticWeightsOptions { Seed = 5 });
        var graph = ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = weights }).Graph;

        // conv1 + BatchNorm (Scale stops the chain) and conv2 + ReLU.
        AssertFusedChains(graph, expectedChains: 2);
        AssertSameBits(graph, RandomInput(graph, seed: 9));
    }

    [TestMethod]
    public void Without_the_option_every_node_runs_its_own_kernel()
    {
        // The executor's default plan (ExecutionOptions as a caller leaves them) keeps the
        // BatchNormalization and the Relu as steps of their own; only the opt-in fuses them.
        var graph = Read(Model(
            13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 1, 1)), BatchNorm("bn", "c", "b", "bn"), Node("Relu", "relu", ["b"], ["y"])],
            [Random("w", 1, -1, 1, 2, 3, 1, 1), .. BatchNormParameters("bn", 2, 5)])).Graph;
        var requested = new HashSet<string>(graph.Outputs, StringComparer.Ordinal);

        var byDefault = ExecutionPlan.Create(graph, requested, new ExecutionOptions().FuseEpilogues, graph.Initializers.ContainsKey);
        var optedIn = ExecutionPlan.Create(graph, requested, fuseEpilogues: true, graph.Initializers.ContainsKey);

        CollectionAssert.AreEqual(new[] { "conv", "bn", "relu" }, byDefault.Steps.Select(s => s.Node.Name).ToArray());
        Assert.IsTrue(byDefault.Steps.All(s => s.Chain is null));
        Assert.AreEqual(1, optedIn.Steps.Count(s => s.Chain is not null));
    }

    [TestMethod]
    public void Fusing_leaves_the_callers_graph_as_it_was()
    {
        var graph = Read(Model(
            13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 1, 1)), Node("Relu", "relu", ["c"], ["y"])],
            [Random("w", 1, -1, 1, 2, 3, 1, 1)])).Graph;
        var before = graph.Nodes.Select(n => $"{n.Name} {n.OpType} {string.Join(",", n.Inputs)} -> {string.Join(",", n.Outputs)}").ToList();

        new ReferenceExecutor(graph, new ExecutionOptions { FuseEpilogues = true }).Run(new Dictionary<string, Tensor> { ["x"] = RandomInput(graph, seed: 1) });

        CollectionAssert.AreEqual(before, graph.Nodes.Select(n => $"{n.Name} {n.OpType} {string.Join(",", n.Inputs)} -> {string.Join(",", n.Outputs)}").ToList());
    }

    /// <summary>The fused plan really fuses (otherwise the comparison proves nothing); the default plan fuses nothing.</summary>
    private static void AssertFusedChains(Graph graph, int expectedChains)
    {
        var requested = new HashSet<string>(graph.Outputs, StringComparer.Ordinal);
        var fused = ExecutionPlan.Create(graph, requested, fuseEpilogues: true, graph.Initializers.ContainsKey);
        var unfused = ExecutionPlan.Create(graph, requested, fuseEpilogues: false, graph.Initializers.ContainsKey);
        Assert.AreEqual(expectedChains, fused.Steps.Count(s => s.Chain is not null));
        Assert.HasCount(graph.Nodes.Count, unfused.Steps);
        Assert.IsTrue(unfused.Steps.All(s => s.Chain is null));
    }

    private static void AssertSameBits(Graph graph, Tensor input)
    {
        var inputs = new Dictionary<string, Tensor> { [graph.Inputs.Keys.Single()] = input };
        foreach (var threads in new[] { 1, 2 })
        {
            var unfused = new ReferenceExecutor(graph, new ExecutionOptions { MaxDegreeOfParallelism = threads }).Run(inputs);
            var fused = new ReferenceExecutor(graph, new ExecutionOptions { MaxDegreeOfParallelism = threads, FuseEpilogues = true }).Run(inputs);
            foreach (var output in graph.Outputs)
            {
                var expected = unfused[output].Data.Select(BitConverter.SingleToInt32Bits).ToArray();
                var actual = fused[output].Data.Select(BitConverter.SingleToInt32Bits).ToArray();
                CollectionAssert.AreEqual(expected, actual, $"{output} with {threads} thread(s)");
                Assert.IsTrue(unfused[output].Data.Any(v => v != 0), $"{output} is all zeros: the comparison would prove nothing");
            }
        }
    }

    private static Tensor RandomInput(Graph graph, int seed)
    {
        var random = new Random(seed);
        var shape = graph.Inputs.Values.Single();
        var values = new float[shape.ElementCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return new Tensor(shape, values);
    }
}
