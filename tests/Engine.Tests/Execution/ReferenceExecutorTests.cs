using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution;

[TestClass]
public sealed class ReferenceExecutorTests
{
    private static readonly LayerOrigin Origin = new(0, "test", "0", SourceLocation.None);

    /// <summary>x → Conv(1x1, weight 2) → BatchNormalization (in place) → leaky (in place), as darknet's reader builds it.</summary>
    private static Graph ConvBnLeaky(long size)
    {
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, size, size);
        graph.Initializers["w"] = new Initializer("w", new Shape(1, 1, 1, 1), new ArrayData([2]));
        foreach (var (name, value) in new[] { ("gamma", 1f), ("beta", -1f), ("mean", 0f), ("var", 1f) })
        {
            graph.Initializers[name] = new Initializer(name, new Shape(1), new ArrayData([value]));
        }

        var conv = new Node("conv", "Conv", ["x", "w"], ["c"], Origin);
        conv.Attributes.Set("kernel_shape", [1L, 1L]);
        var bn = new Node("bn", "BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["b"], Origin) { InPlace = true };
        bn.Attributes.Set("epsilon", 0.0);
        var act = new Node("act", "Activation", ["b"], ["y"], Origin) { InPlace = true };
        act.Attributes.Set("function", "leaky").Set("alpha", 0.1);
        graph.Nodes.AddRange([conv, bn, act]);
        graph.Outputs.Add("y");
        return graph;
    }

    [TestMethod]
    public void Runs_a_chain_and_returns_the_graph_outputs()
    {
        // y = leaky(2x - 1): x = 0 -> -0.1, x = 1 -> 1, x = 2 -> 3, x = 3 -> 5.
        var result = new ReferenceExecutor(ConvBnLeaky(2)).Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) });
        Assert.HasCount(1, result);
        AssertValues([-0.1f, 1, 3, 5], result["y"]);
    }

    [TestMethod]
    public void Requested_intermediate_values_are_not_overwritten_by_in_place_nodes()
    {
        var result = new ReferenceExecutor(ConvBnLeaky(2)).Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) }, ["c", "b", "y"]);
        AssertValues([0, 2, 4, 6], result["c"]);
        AssertValues([-1, 1, 3, 5], result["b"]);
        AssertValues([-0.1f, 1, 3, 5], result["y"]);
    }

    [TestMethod]
    public void A_constant_graph_output_is_returned_with_its_values()
    {
        // ONNX lets an initializer be a graph output: an exported SSD's prior boxes, computed at export.
        var graph = ConvBnLeaky(2);
        graph.Initializers["prior"] = new Initializer("prior", new Shape(1, 2, 2), new ArrayData([0.25f, 0.5f, 0.1f, 0.2f]));
        graph.Outputs.Add("prior");
        var result = new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) });
        AssertValues([0.25f, 0.5f, 0.1f, 0.2f], result["prior"]);
        AssertValues([-0.1f, 1, 3, 5], result["y"]);
    }

    [TestMethod]
    public void Never_writes_into_the_callers_input()
    {
        // An in-place activation straight on the graph input must not touch the caller's array.
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 1, 2);
        var act = new Node("act", "Activation", ["x"], ["y"], Origin) { InPlace = true };
        act.Attributes.Set("function", "relu");
        graph.Nodes.Add(act);
        graph.Outputs.Add("y");
        var x = T([1, 1, 1, 2], -1, 2);
        var y = new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        AssertValues([-1, 2], x);
        AssertValues([0, 2], y);
        Assert.AreNotSame(x.Data, y.Data);
    }

    [TestMethod]
    public void A_pass_through_value_keeps_its_values_when_an_in_place_node_follows()
    {
        // x -> conv -> Dropout (aliases conv's buffer) -> in-place relu; Dropout's value is requested.
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 1, 2);
        graph.Initializers["w"] = new Initializer("w", new Shape(1, 1, 1, 1), new ArrayData([-1]));
        var conv = new Node("conv", "Conv", ["x", "w"], ["c"], Origin);
        conv.Attributes.Set("kernel_shape", [1L, 1L]);
        var drop = new Node("drop", "Dropout", ["c"], ["d"], Origin) { InPlace = true };
        var act = new Node("act", "Activation", ["d"], ["y"], Origin) { InPlace = true };
        act.Attributes.Set("function", "relu");
        graph.Nodes.AddRange([conv, drop, act]);
        var result = new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = T([1, 1, 1, 2], 1, -2) }, ["d", "y"]);
        AssertValues([-1, 2], result["d"]);
        AssertValues([0, 2], result["y"]);
    }

    [TestMethod]
    public void A_smaller_input_than_declared_is_run_at_its_own_size()
    {
        var executor = new ReferenceExecutor(ConvBnLeaky(8));
        var y = executor.Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) })["y"];
        Assert.AreEqual(Shape.Nchw(1, 1, 2, 2), y.Shape);
        AssertValues([-0.1f, 1, 3, 5], y);

        // And the declared size still works afterwards.
        Assert.AreEqual(Shape.Nchw(1, 1, 8, 8), executor.Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 8, 8) })["y"].Shape);
    }

    [TestMethod]
    public void Repeated_runs_give_the_same_result()
    {
        var executor = new ReferenceExecutor(ConvBnLeaky(4));
        var first = executor.Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 4, 4) })["y"].Data;
        var second = executor.Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 4, 4) })["y"].Data;
        CollectionAssert.AreEqual(first, second);
    }

    [TestMethod]
    public void Only_the_nodes_a_requested_value_needs_run()
    {
        // The BatchNorm's gamma has no values, yet asking for c only runs (and loads) the conv.
        var graph = ConvBnLeaky(2);
        graph.Initializers["gamma"].Data = null;
        var c = new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) }, ["c"])["c"];
        AssertValues([0, 2, 4, 6], c);
    }

    [TestMethod]
    public void Weights_without_values_are_reported_clearly()
    {
        var graph = ConvBnLeaky(2);
        graph.Initializers["w"].Data = null;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) }));
        StringAssert.Contains(error.Message, "WeightsPath");
    }

    [TestMethod]
    public void Inputs_must_match_the_graph()
    {
        var executor = new ReferenceExecutor(ConvBnLeaky(2));
        Assert.ThrowsExactly<ArgumentException>(() => executor.Run(new Dictionary<string, Tensor>()));
        Assert.ThrowsExactly<ArgumentException>(() => executor.Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2), ["z"] = Iota(1) }));
        Assert.ThrowsExactly<ArgumentException>(() => executor.Run(new Dictionary<string, Tensor> { ["x"] = Iota(1, 1, 2, 2) }, ["nothing"]));
    }

    [TestMethod]
    public void Fusing_conv_batchnorm_and_activation_changes_no_bit()
    {
        // Asking for the intermediate values prevents the fusion even when it is on; the final values must not move.
        var random = new Random(3);
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 8, 20, 21);
        void Constant(string name, params long[] dims)
        {
            var shape = new Shape(dims);
            var values = new float[shape.ElementCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)(random.NextDouble() + (name == "var" ? 0.01 : -0.5));
            }

            graph.Initializers[name] = new Initializer(name, shape, new ArrayData(values));
        }

        Constant("w", 13, 8, 3, 3);
        foreach (var name in new[] { "gamma", "beta", "mean", "var" })
        {
            Constant(name, 13);
        }

        var conv = new Node("conv", "Conv", ["x", "w"], ["c"], Origin);
        conv.Attributes.Set("kernel_shape", [3L, 3L]).Set("pads", [1L, 1L, 1L, 1L]);
        var bn = new Node("bn", "BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["b"], Origin) { InPlace = true };
        bn.Attributes.Set("epsilon", 1e-6).Set("epsilon_placement", "outside");
        var act = new Node("act", "Activation", ["b"], ["y"], Origin) { InPlace = true };
        act.Attributes.Set("function", "mish");
        graph.Nodes.AddRange([conv, bn, act]);
        graph.Outputs.Add("y");
        var x = Kernels.ConvKernelTests.RandomTensor(random, 1, 8, 20, 21);
        var inputs = new Dictionary<string, Tensor> { ["x"] = x };

        var fusing = new ExecutionOptions { FuseEpilogues = true };
        var fused = new ReferenceExecutor(graph, fusing).Run(inputs)["y"].Data;
        var separate = new ReferenceExecutor(graph, fusing).Run(inputs, ["c", "b", "y"])["y"].Data;
        CollectionAssert.AreEqual(separate, fused);
    }
}
