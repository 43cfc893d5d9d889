using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxMalformedNodeTests;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>
/// Learned parameters that do not fit their layer's input (NM0024) are refused when the graph is
/// read, by the ops' shape rules: every format gets the check, and nothing reaches the cost model
/// or the executor with a parameter it would index past. The input is 1x3x8x8 throughout.
/// </summary>
[TestClass]
public sealed class ParameterShapeTests
{
    [TestMethod]
    [DataRow(4, 3, 3, 3)]
    [DataRow(3, 2, 3, 3)]
    [DataRow(3, 3, 1, 3)]
    [DataRow(3, 3, 3, 6)]
    [DataRow(3, 64, 3, 3)]
    [DataRow(3, 3, 0, 3)]
    public void Batch_norm_statistics_without_one_value_per_channel_are_NM0024(int scale, int bias, int mean, int variance)
    {
        var model = Model(13, [Node("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["y"])],
            [Floats("s", scale), Floats("b", bias), Floats("m", mean), Floats("v", variance)]);

        Refused(DiagnosticCodes.ParameterShapeMismatch, model);
    }

    [TestMethod]
    [DataRow(4, 3)]
    [DataRow(3, 1)]
    public void Instance_norm_scale_and_bias_without_one_value_per_channel_are_NM0024(int scale, int bias)
    {
        Refused(DiagnosticCodes.ParameterShapeMismatch,
            Model(13, [Node("InstanceNormalization", "in", ["x", "s", "b"], ["y"])], [Floats("s", scale), Floats("b", bias)]));
    }

    [TestMethod]
    public void Mismatched_batch_norm_statistics_are_refused_by_fuse_before_anything_runs()
    {
        // The case that used to pass `inspect` and crash inside the executor during `fuse`.
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"]), Node("BatchNormalization", "bn", ["c", "s", "b", "m", "v"], ["y"])],
            [Floats("w", 4, 3, 3, 3), Floats("s", 4), Floats("b", 4), Floats("m", 3), Floats("v", 4)]);
        var path = dir.Write("bn.onnx", model.ToByteArray());

        DiagnosticAssert.Throws(DiagnosticCodes.ParameterShapeMismatch, () => ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = path, OutputDirectory = dir.Combine("out") }));
        Assert.IsFalse(Directory.Exists(dir.Combine("out")) && Directory.EnumerateFileSystemEntries(dir.Combine("out")).Any());
    }

    [TestMethod]
    [DataRow(3)]
    [DataRow(5)]
    public void A_conv_bias_without_one_value_per_filter_is_NM0024(int biases)
    {
        // Conv 3→4 filters: the bias needs 4 values.
        Refused(DiagnosticCodes.ParameterShapeMismatch, Model(13, [Node("Conv", "conv", ["x", "w", "b"], ["y"])], [Floats("w", 4, 3, 3, 3), Floats("b", biases)]));
    }

    [TestMethod]
    public void A_deconv_bias_without_one_value_per_output_channel_is_NM0024()
    {
        // ConvTranspose W (Cin=3, Cout/group=2, 3, 3) with group 1: 2 output channels.
        Refused(DiagnosticCodes.ParameterShapeMismatch, Model(13, [Node("ConvTranspose", "up", ["x", "w", "b"], ["y"])], [Floats("w", 3, 2, 3, 3), Floats("b", 3)]));
    }

    [TestMethod]
    public void A_kernel_shape_other_than_the_weights_is_NM0024()
    {
        Refused(DiagnosticCodes.ParameterShapeMismatch, Conv(13, Ints("kernel_shape", 5, 5)));
        Refused(DiagnosticCodes.ParameterShapeMismatch, Model(13, [Node("ConvTranspose", "up", ["x", "w"], ["y"], Ints("kernel_shape", 2, 2))], [Floats("w", 3, 2, 3, 3)]));
    }

    [TestMethod]
    public void A_gemm_bias_that_does_not_broadcast_to_the_outputs_is_NM0024()
    {
        // Flatten gives 1x192; B (10, 192) transposed gives 10 outputs; C must broadcast to 1x10.
        Refused(DiagnosticCodes.ParameterShapeMismatch, Model(13,
            [Node("Flatten", "f", ["x"], ["a"]), Node("Gemm", "fc", ["a", "w", "c"], ["y"], Int("transB", 1))],
            [Floats("w", 10, 192), Floats("c", 7)]));
    }

    [TestMethod]
    public void A_prelu_slope_that_does_not_broadcast_is_NM0024()
    {
        Refused(DiagnosticCodes.ParameterShapeMismatch, Model(13, [Node("PRelu", "p", ["x", "s"], ["y"])], [Floats("s", 5, 1, 1)]));
    }

    [TestMethod]
    public void The_check_is_format_neutral_it_runs_in_shape_inference_of_any_graph()
    {
        // A Caffe-style BatchNorm (no scale, no bias) hand-built in the IR, as any reader would build it.
        var graph = new Graph();
        graph.Inputs["data"] = Shape.Nchw(1, 3, 8, 8);
        graph.Initializers["mean"] = new Initializer("mean", new Shape(3), null);
        graph.Initializers["var"] = new Initializer("var", new Shape(2), null);
        var origin = new LayerOrigin(0, "BatchNorm", "bn", new SourceLocation("net.prototxt", 5, 1));
        graph.Nodes.Add(new Node("bn", "BatchNormalization", ["data", string.Empty, string.Empty, "mean", "var"], ["out"], origin));

        var error = DiagnosticAssert.Throws(DiagnosticCodes.ParameterShapeMismatch, () => ShapeInference.Run(graph));

        Assert.AreEqual(5, error.Location.Line);
        StringAssert.Contains(error.Message, "variance 2 has 2 values for 3 channels");
    }
}
