using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxFoldHarness;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Execution;

/// <summary>The executor's per-step hook: one call per step, in run order, naming the nodes the step computed.</summary>
[TestClass]
public sealed class StepObserverTests
{
    private sealed class Recorder : IStepObserver
    {
        public List<(int Step, string[] Nodes, TimeSpan Elapsed)> Calls { get; } = [];

        public void StepRan(int step, IReadOnlyList<Node> nodes, TimeSpan elapsed) => Calls.Add((step, [.. nodes.Select(n => n.Name)], elapsed));
    }

    private static Graph ConvBatchNormRelu() => Read(Model(
        13,
        [
            Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
            Node("BatchNormalization", "bn", ["c", "gamma", "beta", "mean", "var"], ["n"]),
            Node("Relu", "relu", ["n"], ["r"]),
            Node("MaxPool", "pool", ["r"], ["y"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
        ],
        [
            Random("w", 1, -0.5, 0.5, 4, 3, 3, 3),
            Random("gamma", 2, 0.5, 1.5, 4),
            Random("beta", 3, -0.2, 0.2, 4),
            Random("mean", 4, -0.3, 0.3, 4),
            Random("var", 5, 0.1, 2, 4),
        ],
        inputDims: [1, 3, 8, 8])).Graph;

    [TestMethod]
    public void Unfused_each_node_is_one_step_reported_once_in_graph_order()
    {
        var graph = ConvBatchNormRelu();
        var recorder = new Recorder();

        new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = RandomInput(graph.Inputs["x"], 3) }, outputs: null, recorder);

        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, recorder.Calls.Select(c => c.Step).ToArray());
        CollectionAssert.AreEqual(graph.Nodes.Select(n => n.Name).ToArray(), recorder.Calls.Select(c => c.Nodes.Single()).ToArray());
        Assert.IsTrue(recorder.Calls.All(c => c.Elapsed >= TimeSpan.Zero));
    }

    [TestMethod]
    public void Fused_a_conv_step_names_its_batchnorm_and_activation()
    {
        var graph = ConvBatchNormRelu();
        var recorder = new Recorder();

        new ReferenceExecutor(graph, new ExecutionOptions { FuseEpilogues = true }).Run(new Dictionary<string, Tensor> { ["x"] = RandomInput(graph.Inputs["x"], 3) }, outputs: null, recorder);

        Assert.HasCount(2, recorder.Calls);
        CollectionAssert.AreEqual(new[] { "conv", "bn", "relu" }, recorder.Calls[0].Nodes);
        CollectionAssert.AreEqual(new[] { "pool" }, recorder.Calls[1].Nodes);
    }

    [TestMethod]
    public void The_observed_run_computes_what_the_plain_run_computes()
    {
        var graph = ConvBatchNormRelu();
        var executor = new ReferenceExecutor(graph);
        var input = new Dictionary<string, Tensor> { ["x"] = RandomInput(graph.Inputs["x"], 9) };

        var plain = executor.Run(input)["y"].Data;
        var observed = executor.Run(input, outputs: null, new Recorder())["y"].Data;

        CollectionAssert.AreEqual(plain, observed);
    }
}
