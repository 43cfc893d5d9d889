using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class PoolingKernelTests
{
    [TestMethod]
    public void Max_pool_two_by_two_stride_two()
    {
        var y = Run("MaxPool", Iota(1, 1, 4, 4), a => a.Set("kernel_shape", [2L, 2L]).Set("strides", [2L, 2L]));
        AssertValues([5, 7, 13, 15], y);
    }

    [TestMethod]
    public void Max_pool_size_2_stride_1_pads_only_the_far_edge_as_darknet()
    {
        // yolov3-tiny's last maxpool: padding = size - 1 = 1, offset -1/2 = 0, so the extra row and
        // column lie after the image and never win. Negative values show that padding is not 0.
        var x = T([1, 1, 2, 2], -1, -2, -3, -4);
        var y = Run("MaxPool", x, a => a.Set("kernel_shape", [2L, 2L]).Set("pads", [0L, 0L, 1L, 1L]));
        AssertValues([-1, -2, -3, -4], y);
    }

    [TestMethod]
    public void Max_pool_depth_takes_the_max_over_strided_channels()
    {
        // 4 channels into 2: out0 = max(c0, c2), out1 = max(c1, c3).
        var y = Run("MaxPool", T([1, 4, 1, 1], 1, 8, 3, 2), a => a.Set("kernel_shape", [1L, 1L]).Set("depth_channels", 2L));
        Assert.AreEqual(Shape.Nchw(1, 2, 1, 1), y.Shape);
        AssertValues([3, 8], y);
    }

    [TestMethod]
    public void Local_average_pool_divides_by_the_pixels_inside_the_image()
    {
        // 3x3 window, pad 1, on the 3x3 iota: the corner sees 0,1,3,4 (mean 2); the centre all 9 (mean 4).
        var y = Run("AveragePool", Iota(1, 1, 3, 3), a => a.Set("kernel_shape", [3L, 3L]).Set("pads", [1L, 1L, 1L, 1L]).Set("count_include_pad", 0L));
        AssertValues([2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f, 6], y);
    }
}
