using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxMalformedNodeTests;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>
/// Kernel, stride, dilation and pad attributes of convolution and pooling are range-checked when
/// the graph is read (NM0025): zero and negative values, and values no network uses (2^31-1,
/// 2^63-1) that would otherwise wrap a size or reach the executor. Other out-of-range attributes
/// of the ops follow.
/// </summary>
[TestClass]
public sealed class WindowAttributeTests
{
    private const long Int32Max = int.MaxValue;

    [TestMethod]
    [DataRow("strides", 0L)]
    [DataRow("strides", -1L)]
    [DataRow("strides", Int32Max)]
    [DataRow("strides", long.MaxValue)]
    [DataRow("dilations", 0L)]
    [DataRow("dilations", -3L)]
    [DataRow("dilations", Int32Max)]
    [DataRow("dilations", long.MaxValue)]
    public void Conv_and_deconv_strides_and_dilations_out_of_range_are_refused(string attribute, long value)
    {
        Refused(DiagnosticCodes.AttributeOutOfRange, Conv(13, Ints(attribute, value, 1)));
        Refused(DiagnosticCodes.AttributeOutOfRange, Model(13, [Node("ConvTranspose", "up", ["x", "w"], ["y"], Ints(attribute, 1, value))], [Floats("w", 3, 2, 3, 3)]));
    }

    [TestMethod]
    [DataRow(-1L)]
    [DataRow(Int32Max)]
    [DataRow(long.MaxValue)]
    [DataRow(1L << 62)] // begin + end overflows 64 bits
    [DataRow(1L << 32)]
    public void Pads_out_of_range_are_refused(long pad)
    {
        Refused(DiagnosticCodes.AttributeOutOfRange, Conv(13, Ints("pads", pad, 0, pad, 0)));
        Refused(DiagnosticCodes.AttributeOutOfRange, Model(13, [Node("AveragePool", "pool", ["x"], ["y"], Ints("kernel_shape", 1, 1), Ints("pads", 0, pad, 0, pad))]));
    }

    [TestMethod]
    [DataRow(0L)]
    [DataRow(-2L)]
    [DataRow(Int32Max)]
    [DataRow(long.MaxValue)]
    public void Pooling_kernels_out_of_range_are_refused(long kernel)
    {
        Refused(DiagnosticCodes.AttributeOutOfRange, Model(13, [Node("MaxPool", "pool", ["x"], ["y"], Ints("kernel_shape", kernel, 1))]));
    }

    [TestMethod]
    public void The_largest_accepted_window_attribute_still_reads()
    {
        // 2^20 = 1,048,576 (docs/diagnostics.md, NM0025) is accepted: a stride that large over an
        // 8-pixel input gives one output row, floor((8 - 3) / 2^20) + 1 = 1.
        var model = Read(Conv(13, Ints("strides", 1L << 20, 1)));

        Assert.AreEqual("1x4x1x6", ShapeInference.Run(model.Graph)["y"].ToString());
    }

    [TestMethod]
    [DataRow(0L)]
    [DataRow(-1L)]
    [DataRow(long.MaxValue)]
    public void A_group_that_does_not_divide_the_channels_is_refused(long group)
    {
        Refused(DiagnosticCodes.ShapeMismatch, Conv(13, Int("group", group)));
    }

    [TestMethod]
    [DataRow(13L, 4L)]
    [DataRow(13L, -5L)]
    [DataRow(11L, 9L)] // coerced to 2-D before opset 13, still an axis of the input
    [DataRow(13L, long.MinValue)]
    public void A_softmax_axis_the_input_does_not_have_is_refused(long opset, long axis)
    {
        Refused(DiagnosticCodes.AttributeOutOfRange, Model(opset, [Node("Softmax", "sm", ["x"], ["y"], Int("axis", axis))]));
    }

    [TestMethod]
    public void A_resize_scale_whose_size_does_not_fit_64_bits_is_refused()
    {
        // 8 x 1e30 is no size.
        var scales = Values("scales", [4], 1, 1, 1e30f, 1e30f);

        Refused(DiagnosticCodes.AttributeOutOfRange, Model(13, [Node("Resize", "up", ["x", string.Empty, "scales"], ["y"])], [scales]));
    }

    [TestMethod]
    public void An_output_too_large_for_64_bits_is_a_size_overflow_not_a_wrapped_shape()
    {
        // Resize to 2^40 x 2^40 over 3 channels: 3 * 2^80 elements.
        var sizes = Int64s("sizes", 1, 3, 1L << 40, 1L << 40);

        Refused(DiagnosticCodes.SizeOverflow, Model(13, [Node("Resize", "up", ["x", string.Empty, string.Empty, "sizes"], ["y"])], [sizes]));
    }

    [TestMethod]
    public void An_accepted_pad_whose_output_no_array_holds_is_refused_by_fuse_with_NM0026()
    {
        // pads 20,000 on an 8x8 input: 1x4x40004x40004 = 6,401,280,064 elements, a size 64 bits hold
        // (inspect reports it) but over .NET's 2,147,483,591-element array limit (verification cannot run it).
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("pads", 20_000, 20_000, 20_000, 20_000)), Node("BatchNormalization", "bn", ["c", "s", "b", "m", "v"], ["y"])],
            [Floats("w", 4, 3, 3, 3), Floats("s", 4), Floats("b", 4), Floats("m", 4), Floats("v", 4)]);
        var path = dir.Write("pad.onnx", model.ToByteArray());

        var error = DiagnosticAssert.Throws(DiagnosticCodes.TensorTooLarge, () => ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = path, OutputDirectory = dir.Combine("out") }));

        StringAssert.Contains(error.Message, "1x4x40004x40004");
    }
}
