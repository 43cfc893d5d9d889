using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class XnorConvolutionTests
{
    [TestMethod]
    public void Xnor_conv_binarises_inputs_by_sign_and_each_filter_to_its_mean_absolute_value()
    {
        // 1x1 conv, 2 input channels, 2 filters: W0 = [1, -3] → mean |w| 2 → [2, -2];
        // W1 = [0.5, 0.25] → mean 0.375 → [0.375, 0.375]. Input pixel (0.5, -2) → (+1, -1).
        // y0 = 2*1 + (-2)*(-1) = 4; y1 = 0.375*1 + 0.375*(-1) = 0; bias [0.5, 1] added.
        var origin = new LayerOrigin(0, "convolutional", "0", new SourceLocation("t.cfg", 1, 1));
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 2, 1, 1);
        graph.Initializers["w"] = new Initializer("w", new Shape(2, 2, 1, 1), new ArrayData([1f, -3f, 0.5f, 0.25f]));
        graph.Initializers["b"] = new Initializer("b", new Shape(2), new ArrayData([0.5f, 1f]));
        var conv = new Node("conv", "Conv", ["x", "w", "b"], ["y"], origin);
        conv.Attributes.Set("kernel_shape", [1L, 1L]).Set("xnor", 1L);
        graph.Nodes.Add(conv);
        graph.Outputs.Add("y");

        var y = new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor> { ["x"] = new(Shape.Nchw(1, 2, 1, 1), [0.5f, -2f]) })["y"];

        CollectionAssert.AreEqual(new[] { 4.5f, 1f }, y.Data);
    }
}
