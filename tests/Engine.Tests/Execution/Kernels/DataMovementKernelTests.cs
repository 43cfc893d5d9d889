using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class DataMovementKernelTests
{
    [TestMethod]
    public void Concat_with_groups_takes_the_same_slice_of_every_input()
    {
        // Each input has 2 channels of 1 pixel; groups 2, group_id 1 keeps channel 1 of each.
        var y = Run("Concat", T([1, 2, 1, 1], 1, 2), a => a.Set("axis", 1L).Set("groups", 2L).Set("group_id", 1L), T([1, 2, 1, 1], 3, 4));
        Assert.AreEqual(Shape.Nchw(1, 2, 1, 1), y.Shape);
        AssertValues([2, 4], y);
    }

    [TestMethod]
    public void Upsample_repeats_pixels_times_scale()
    {
        var y = Run("Upsample", T([1, 1, 1, 2], 1, 2), a => a.Set("stride", 2L).Set("scale", 0.5));
        AssertValues([0.5f, 0.5f, 1, 1, 0.5f, 0.5f, 1, 1], y);
    }

    [TestMethod]
    public void Negative_upsample_stride_sums_blocks_as_darknet_reverse()
    {
        // Blocks of the 2x4 iota: (0+1+4+5) and (2+3+6+7), times scale 2.
        var y = Run("Upsample", Iota(1, 1, 2, 4), a => a.Set("stride", -2L).Set("scale", 2.0));
        Assert.AreEqual(Shape.Nchw(1, 1, 1, 2), y.Shape);
        AssertValues([20, 36], y);
    }

    [TestMethod]
    public void Pjreddie_reorg_reads_the_input_through_a_c_over_s2_view()
    {
        // reorg_cpu(x, w=2, h=2, c=4, s=2, forward=0): out[i + 2j + 4k] = x[(2i + k%2) + 4(2j + k/2)],
        // i.e. the 16 values seen as one 4x4 image, split into its four 2x2 phases.
        var y = Run("Reorg", Iota(1, 4, 2, 2), a => a.Set("stride", 2L).Set("flavor", "reorg"));
        Assert.AreEqual(Shape.Nchw(1, 16, 1, 1), y.Shape);
        AssertValues([0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15], y);
    }

    [TestMethod]
    public void Reorg3d_is_a_true_space_to_depth()
    {
        // Output channel (phase*4 + c) holds input channel c at pixel (phase/2, phase%2); x[c,h,w] = 4c + 2h + w.
        var y = Run("Reorg", Iota(1, 4, 2, 2), a => a.Set("stride", 2L).Set("flavor", "reorg3d"));
        AssertValues([0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], y);
    }

    [TestMethod]
    public void Reverse_reorg_walks_its_own_input_grid_forward()
    {
        // pjreddie reverse=1 on a (16, 1, 1) input: reorg_cpu(x, 1, 1, 16, s=2, forward=1) writes
        // x[k] to channel k%4 at pixel ((k/4)/2, (k/4)%2) of the (4, 2, 2) output: a depth-to-space
        // over this layer's own grid (not the inverse of an earlier [reorg], whose grid differs).
        var y = Run("Reorg", Iota(1, 16, 1, 1), a => a.Set("stride", 2L).Set("flavor", "reorg").Set("reverse", 1L));
        Assert.AreEqual(Shape.Nchw(1, 4, 2, 2), y.Shape);
        AssertValues([0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], y);
    }

    [TestMethod]
    public void Reorg_extra_appends_zeros_to_the_flattened_input()
    {
        var y = Run("Reorg", Iota(1, 1, 1, 2), a => a.Set("stride", 1L).Set("extra", 2L));
        Assert.AreEqual(Shape.Nchw(1, 4, 1, 1), y.Shape);
        AssertValues([0, 1, 0, 0], y);
    }

    [TestMethod]
    public void Crop_takes_the_centre_and_maps_to_minus_one_one()
    {
        // Centre 2x2 of the 4x4 iota is 5, 6, 9, 10; 2x - 1.
        var y = Run("DarknetCrop", Iota(1, 1, 4, 4), a => a.Set("crop_height", 2L).Set("crop_width", 2L));
        AssertValues([9, 11, 17, 19], y);
        var raw = Run("DarknetCrop", Iota(1, 1, 4, 4), a => a.Set("crop_height", 2L).Set("crop_width", 2L).Set("noadjust", 1L));
        AssertValues([5, 6, 9, 10], raw);
    }

    [TestMethod]
    public void Mul_broadcasts_a_channel_scale_over_the_map()
    {
        // [scale_channels]: from-layer map (input 0) times a (1, 2, 1, 1) scale.
        var y = Run("Arithmetic", Iota(1, 2, 1, 2), a => a.Set("operation", "mul"), T([1, 2, 1, 1], 10, 100));
        AssertValues([0, 10, 200, 300], y);
    }

    [TestMethod]
    public void Max_takes_the_larger_element_broadcast_and_keeps_NaN()
    {
        // Caffe's Eltwise MAX and ONNX Max of two: elementwise larger value; a NaN on either side is NaN.
        var y = Run("Arithmetic", T([1, 1, 1, 4], -1, 5, float.NaN, 2), a => a.Set("operation", "max"), T([1, 1, 1, 4], 3, 4, 0, float.NaN));
        Assert.AreEqual(3f, y.Data[0]);
        Assert.AreEqual(5f, y.Data[1]);
        Assert.IsTrue(float.IsNaN(y.Data[2]) && float.IsNaN(y.Data[3]));

        var broadcast = Run("Arithmetic", Iota(1, 1, 2, 2), a => a.Set("operation", "max"), T([1], 1.5f));
        AssertValues([1.5f, 1.5f, 2, 3], broadcast);
    }

    [TestMethod]
    public void Dropout_passes_its_input_on()
    {
        var x = Iota(1, 1, 1, 3);
        var y = Run("Dropout", x, a => a.Set("probability", 0.5));
        AssertValues([0, 1, 2], y);
    }
}
