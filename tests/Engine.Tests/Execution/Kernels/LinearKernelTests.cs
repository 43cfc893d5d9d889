using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class LinearKernelTests
{
    [TestMethod]
    public void Fully_connected_is_w_times_the_flattened_input_plus_bias()
    {
        // x = [1, 2, 3]; W = [[1 0 -1], [2 2 2]]; b = [10, 20] -> [1 - 3 + 10, 12 + 20].
        var y = Run("FullyConnected", T([1, 3, 1, 1], 1, 2, 3), null, T([2, 3], 1, 0, -1, 2, 2, 2), T([2], 10, 20));
        Assert.AreEqual(Shape.Nchw(1, 2, 1, 1), y.Shape);
        AssertValues([8, 32], y);
    }

    [TestMethod]
    public void Fully_connected_handles_each_batch_item()
    {
        var y = Run("FullyConnected", T([2, 2], 1, 2, 3, 4), null, T([1, 2], 1, 1));
        AssertValues([3, 7], y);
    }

    [TestMethod]
    public void Transposed_convolution_scatters_each_pixel_times_the_kernel()
    {
        // 2x2 input [1 2; 3 4], 2x2 kernel [1 10; 100 1000], stride 2: each pixel becomes its own
        // 2x2 block of the 4x4 output, then bias 0.5.
        var y = Run("ConvTranspose", T([1, 1, 2, 2], 1, 2, 3, 4), a => a.Set("kernel_shape", [2L, 2L]).Set("strides", [2L, 2L]),
            T([1, 1, 2, 2], 1, 10, 100, 1000), T([1], 0.5f));
        Assert.AreEqual(Shape.Nchw(1, 1, 4, 4), y.Shape);
        AssertValues(
        [
            1.5f, 10.5f, 2.5f, 20.5f,
            100.5f, 1000.5f, 200.5f, 2000.5f,
            3.5f, 30.5f, 4.5f, 40.5f,
            300.5f, 3000.5f, 400.5f, 4000.5f,
        ], y);
    }

    [TestMethod]
    public void Transposed_convolution_overlaps_add_and_padding_crops()
    {
        // 1x2 input [1 2], 1x3 kernel [1 1 1], stride 1: full output [1 3 3 2]; pad 1 on each side
        // of the width crops it to [3 3].
        var full = Run("ConvTranspose", T([1, 1, 1, 2], 1, 2), a => a.Set("kernel_shape", [1L, 3L]), T([1, 1, 1, 3], 1, 1, 1));
        AssertValues([1, 3, 3, 2], full);
        var cropped = Run("ConvTranspose", T([1, 1, 1, 2], 1, 2), a => a.Set("kernel_shape", [1L, 3L]).Set("pads", [0L, 1L, 0L, 1L]), T([1, 1, 1, 3], 1, 1, 1));
        AssertValues([3, 3], cropped);
    }

    [TestMethod]
    public void Locally_connected_uses_the_weights_of_each_location()
    {
        // 1 channel 1x2 input [2 3], size 1, 1 filter: location 0 weight 10, location 1 weight 100,
        // biases (filter, location) = [1, 2].
        var y = Run("LocallyConnected", T([1, 1, 1, 2], 2, 3), a => a.Set("kernel", 1L).Set("stride", 1L).Set("pad", 0L).Set("filters", 1L),
            T([2, 1, 1], 10, 100), T([1, 1, 2], 1, 2));
        AssertValues([21, 302], y);
    }
}
