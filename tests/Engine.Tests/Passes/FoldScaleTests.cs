using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Tests.Passes;

[TestClass]
public sealed class FoldScaleTests
{
    private static readonly LayerOrigin Origin = new(0, "test", "t", new SourceLocation("t.prototxt", 1, 1));

    [TestMethod]
    public void Lone_scale_folds_into_the_conv_before_it()
    {
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 2, 2);
        graph.Initializers["w"] = new Initializer("w", new Shape(2, 1, 1, 1), new ArrayData([2f, -3f]));
        graph.Initializers["b"] = new Initializer("b", new Shape(2), new ArrayData([1f, 1f]));
        graph.Initializers["s"] = new Initializer("s", new Shape(2), new ArrayData([0.5f, 4f]));
        graph.Initializers["t"] = new Initializer("t", new Shape(2), new ArrayData([10f, -1f]));
        var conv = new Node("conv", "Conv", ["x", "w", "b"], ["y"], Origin);
        conv.Attributes.Set("kernel_shape", [1L, 1L]);
        graph.Nodes.Add(conv);
        graph.Nodes.Add(new Node("scale", "ChannelAffine", ["y", "s", "t"], ["z"], Origin));
        graph.Outputs.Add("z");

        var report = PassManager.Run(graph);

        Assert.AreEqual("FoldScale", report.Applied.Single().Pass);
        Assert.AreEqual("y", graph.Outputs.Single());
        // W' = s*W = [1, -12]; b' = s*b + t = [10.5, 3].
        CollectionAssert.AreEqual(new[] { 1f, -12f }, graph.Initializers[conv.Inputs[1]].Data!.ToArray());
        CollectionAssert.AreEqual(new[] { 10.5f, 3f }, graph.Initializers[conv.Inputs[2]].Data!.ToArray());
        Assert.IsFalse(graph.Initializers.ContainsKey("s"), "unused initializers are dropped");
    }

    [TestMethod]
    public void Dropout_and_identity_are_removed_and_their_readers_rewired()
    {
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 2, 2);
        graph.Nodes.Add(new Node("drop", "Dropout", ["x"], ["d"], Origin));
        graph.Nodes.Add(new Node("relu", "Activation", ["d"], ["r"], Origin, new Attributes().Set("function", "relu")));
        graph.Nodes.Add(new Node("id", "Identity", ["r"], ["out"], Origin));
        graph.Outputs.Add("out");

        var report = PassManager.Run(graph);

        Assert.HasCount(2, report.Applied.ToList());
        Assert.AreEqual("relu", graph.Nodes.Single().Name);
        Assert.AreEqual("x", graph.Nodes.Single().Inputs[0]);
        Assert.AreEqual("r", graph.Outputs.Single());
    }
}
