using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class NormalizationKernelTests
{
    [TestMethod]
    public void Batch_normalization_places_epsilon_as_the_dialect_says()
    {
        // var = 1e-6, eps = 1e-6, x - mean = 1, gamma = 2, beta = 0.5:
        //   outside (pjreddie): 1 / (sqrt(1e-6) + 1e-6) * 2 + 0.5 = 1/0.001001 * 2 + 0.5 = 1998.5020…
        //   inside (AlexeyAB):  1 / sqrt(2e-6) * 2 + 0.5 = 1414.2136 + 0.5
        var x = T([1, 1, 1, 1], 1.25f);
        Tensor[] stats = [T([1], 2), T([1], 0.5f), T([1], 0.25f), T([1], 1e-6f)];
        var outside = Run("BatchNormalization", x, a => a.Set("epsilon", 1e-6).Set("epsilon_placement", "outside"), stats);
        var inside = Run("BatchNormalization", x, a => a.Set("epsilon", 1e-6).Set("epsilon_placement", "inside"), stats);
        Assert.AreEqual((2 / 0.001001) + 0.5, outside.Data[0], 1e-2);
        Assert.AreEqual((2 / Math.Sqrt(2e-6)) + 0.5, inside.Data[0], 1e-2);
    }

    [TestMethod]
    public void Batch_normalization_without_beta_adds_nothing_per_channel()
    {
        // Two channels of two pixels: (x - mean)/sqrt(var + 0) * gamma; var 4 and 1, eps 0.
        var y = Run("BatchNormalization", T([1, 2, 1, 2], 3, 5, 1, 2), a => a.Set("epsilon", 0.0),
            T([2], 1, 3), null, T([2], 1, 0), T([2], 4, 1));
        AssertValues([1, 2, 3, 6], y);
    }

    [TestMethod]
    public void Batch_normalization_without_gamma_scales_by_one()
    {
        // Caffe's BatchNorm: (x - mean)/sqrt(var), here (3 - 1)/2 + 0.5.
        var y = Run("BatchNormalization", T([1, 1, 1, 1], 3), a => a.Set("epsilon", 0.0), (Tensor?)null, T([1], 0.5f), T([1], 1), T([1], 4));
        AssertValues([1.5f], y);
    }

    [TestMethod]
    public void Instance_normalization_uses_each_planes_own_statistics()
    {
        // Channel 0 = [1, 2, 3, 4]: mean 2.5, biased variance 1.25, so (x - 2.5) / sqrt(1.25) * 2 + 1.
        // Channel 1 = [-1, 1, -1, 1]: mean 0, variance 1, epsilon 3 added: x / sqrt(4) * 1 + 0.
        var y = Run("InstanceNormalization", T([1, 2, 2, 2], 1, 2, 3, 4, -1, 1, -1, 1), a => a.Set("epsilon", 0.0),
            T([2], 2, 1), T([2], 1, 0));
        var d = Math.Sqrt(1.25);
        AssertValues([(float)((-1.5 / d * 2) + 1), (float)((-0.5 / d * 2) + 1), (float)((0.5 / d * 2) + 1), (float)((1.5 / d * 2) + 1), -1, 1, -1, 1], y);

        var withEpsilon = Run("InstanceNormalization", T([1, 1, 1, 4], -1, 1, -1, 1), a => a.Set("epsilon", 3.0), T([1], 1), T([1], 0));
        AssertValues([-0.5f, 0.5f, -0.5f, 0.5f], withEpsilon);
    }

    [TestMethod]
    public void Instance_normalization_keeps_the_variance_of_a_plane_far_from_zero()
    {
        // 10001 and 9999 in float32 are exact; the mean 10000 and variance 1 must not be lost to
        // cancellation, so the outputs are -1 and 1 after the plane's own normalisation.
        var y = Run("InstanceNormalization", T([1, 1, 1, 2], 9999, 10001), a => a.Set("epsilon", 0.0), T([1], 1), T([1], 0));
        AssertValues([-1, 1], y);
    }

    [TestMethod]
    public void Lrn_keeps_darknets_window_that_skips_channel_size_over_2()
    {
        // x = [1, 2, 3] over channels at one pixel, size 3, alpha 1, beta 1, kappa 1:
        // norm0 = 1 + 1² = 2; norm1 = norm0 + 3² = 11 (x1² never enters); norm2 = norm1 - 1² = 10.
        var y = Run("LRN", T([1, 3, 1, 1], 1, 2, 3), a => a.Set("size", 3L).Set("alpha", 1.0).Set("beta", 1.0).Set("kappa", 1.0));
        AssertValues([1f / 2, 2f / 11, 3f / 10], y);
    }

    [TestMethod]
    public void Softmax_per_group_with_temperature()
    {
        // Groups [0, ln 4] and [0, 0] at temperature 2: exp(x/2) gives [1, 2] and [1, 1].
        var y = Run("Softmax", T([1, 4, 1, 1], 0, (float)Math.Log(4), 0, 0), a => a.Set("groups", 2L).Set("temperature", 2.0));
        AssertValues([1f / 3, 2f / 3, 0.5f, 0.5f], y);
    }

    [TestMethod]
    public void Global_average_pool_divides_each_plane_by_its_size()
    {
        var y = Run("GlobalAveragePool", Iota(1, 2, 2, 2));
        Assert.AreEqual(Shape.Nchw(1, 2, 1, 1), y.Shape);
        AssertValues([1.5f, 5.5f], y);
    }
}
