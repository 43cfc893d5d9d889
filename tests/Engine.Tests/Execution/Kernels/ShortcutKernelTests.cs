using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class ShortcutKernelTests
{
    [TestMethod]
    public void Equal_shapes_add_every_from_layer()
    {
        var y = Run("Shortcut", T([1, 1, 1, 2], 1, 2), a => a.Set("from_count", 2L), T([1, 1, 1, 2], 10, 20), T([1, 1, 1, 2], 100, 200));
        AssertValues([111, 222], y);
    }

    [TestMethod]
    public void Pjreddie_samples_a_larger_from_layer_with_a_stride()
    {
        // from is 4x4 (iota), x is 2x2 zeros: stride 2, out[i,j] += from[2i, 2j] = 0, 2, 8, 10.
        var y = Run("Shortcut", T([1, 1, 2, 2], 0, 0, 0, 0), a => a.Set("from_count", 1L).Set("size_mismatch", "strided"), Iota(1, 1, 4, 4));
        AssertValues([0, 2, 8, 10], y);
    }

    [TestMethod]
    public void Pjreddie_adds_a_smaller_from_layer_to_every_sample_th_pixel_of_common_channels()
    {
        // x is 2 channels of 2x2 ones, from is 1 channel 1x1 = 5: sample 2, only pixel (0,0) of channel 0 gains.
        var y = Run("Shortcut", T([1, 2, 2, 2], 1, 1, 1, 1, 1, 1, 1, 1), a => a.Set("from_count", 1L), T([1, 1, 1, 1], 5));
        AssertValues([6, 1, 1, 1, 1, 1, 1, 1], y);
    }

    [TestMethod]
    public void AlexeyAB_adds_a_different_shape_in_flat_order()
    {
        // Same inputs, "flat": element i of the item gains element i of from while i < 1.
        var y = Run("Shortcut", T([1, 2, 2, 2], 1, 1, 1, 1, 1, 1, 1, 1), a => a.Set("from_count", 1L).Set("size_mismatch", "flat"), T([1, 1, 1, 1], 5));
        AssertValues([6, 1, 1, 1, 1, 1, 1, 1], y);

        // A 2x2 from into 2 channels of 1x2: flat elements 0..3 all gain (channel 1 gets from's second row).
        var z = Run("Shortcut", T([1, 2, 1, 2], 0, 0, 0, 0), a => a.Set("from_count", 1L).Set("size_mismatch", "flat"), T([1, 1, 2, 2], 1, 2, 3, 4));
        AssertValues([1, 2, 3, 4], z);
    }

    [TestMethod]
    public void Per_feature_weights_with_softmax_normalization()
    {
        // Weights [0, ln 3] for (x, from): darknet shifts by the max (ln 3), so the terms are 1/3 and 1
        // over a sum that starts at 0.0001.
        var sum = 0.0001f + (1f / 3) + 1;
        var y = Run("Shortcut", T([1, 1, 1, 2], 4, 8), a => a.Set("from_count", 1L).Set("weights_type", "per_feature").Set("weights_normalization", "softmax"),
            T([1, 1, 1, 2], 40, 80), T([2], 0, (float)Math.Log(3)));
        AssertValues([(4 * (1f / 3) / sum) + (40 / sum), (8 * (1f / 3) / sum) + (80 / sum)], y, 1e-4f);
    }

    [TestMethod]
    public void Per_channel_weights_with_relu_normalization()
    {
        // Two channels of one pixel; weights (x: [1, -1], from: [3, 2]); relu sums per channel:
        // c0: 0.0001 + 1 + 3, c1: 0.0001 + 0 + 2.
        var y = Run("Shortcut", T([1, 2, 1, 1], 1, 1), a => a.Set("from_count", 1L).Set("weights_type", "per_channel").Set("weights_normalization", "relu"),
            T([1, 2, 1, 1], 10, 10), T([4], 1, -1, 3, 2));
        AssertValues([(1f / 4.0001f) + (30f / 4.0001f), 20f / 2.0001f], y, 1e-5f);
    }

    [TestMethod]
    public void Unnormalised_weights_multiply_directly()
    {
        var y = Run("Shortcut", T([1, 1, 1, 1], 2), a => a.Set("from_count", 1L).Set("weights_type", "per_feature"), T([1, 1, 1, 1], 3), T([2], 0.5f, 2));
        AssertValues([7], y);
    }
}
