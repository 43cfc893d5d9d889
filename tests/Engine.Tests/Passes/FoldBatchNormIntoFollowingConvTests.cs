using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Tests.Passes;

[TestClass]
public sealed class FoldBatchNormIntoFollowingConvTests
{
    private const string Net = "[net]\nwidth=3\nheight=3\nchannels=2\n\n";

    [TestMethod]
    public void Batchnorm_before_an_unpadded_conv_folds_scale_into_weights_and_shift_into_bias()
    {
        using var fixture = new DarknetFixture();
        // Layer 0: [batchnorm] (AlexeyAB order biases, scales, mean, var); layer 1: 1x1 conv, 1 filter, no BN.
        var model = fixture.Create(Net + "[batchnorm]\n\n[convolutional]\nfilters=1\nsize=1\nstride=1\npad=0\nactivation=linear\n",
        [
            1f, -1f,   // beta
            2f, 4f,    // gamma
            0.5f, 0f,  // mean
            1f, 4f,    // var
            0.25f,     // conv bias
            3f, 5f,    // conv W[0, 0], W[0, 1]
        ]);

        var report = PassManager.Run(model.Graph);

        Assert.AreEqual("FoldBatchNormIntoFollowingConv", report.Applied.Single().Pass);
        Assert.IsEmpty(report.NotApplied);
        var conv = model.Graph.Nodes.Single();
        Assert.AreEqual("data", conv.Inputs[0]);
        // s = gamma / sqrt(var + 1e-5); t = beta - s * mean.
        var s0 = 2 / Math.Sqrt(1 + 1e-5);
        var s1 = 4 / Math.Sqrt(4 + 1e-5);
        var t0 = 1 - (s0 * 0.5);
        var t1 = -1 - (s1 * 0);
        CollectionAssert.AreEqual(new[] { (float)(3 * s0), (float)(5 * s1) }, model.Graph.Initializers[conv.Inputs[1]].Data!.ToArray());
        Assert.AreEqual((float)(0.25 + (3 * t0) + (5 * t1)), model.Graph.Initializers[conv.Inputs[2]].Data!.ToArray()[0]);
    }

    [TestMethod]
    public void Batchnorm_before_a_padded_conv_is_not_folded_because_borders_would_change()
    {
        using var fixture = new DarknetFixture();
        var model = fixture.Create(Net + "[batchnorm]\n\n[convolutional]\nfilters=1\nsize=3\nstride=1\npad=1\nactivation=linear\n",
            [.. Enumerable.Repeat(1f, 8 + 1 + 18)]);

        var report = PassManager.Run(model.Graph);

        var refusal = report.NotApplied.Single(e => e.Pass == "FoldBatchNormIntoFollowingConv");
        StringAssert.Contains(refusal.Detail, "pads with zeros");
        Assert.HasCount(2, model.Graph.Nodes);
    }

    [TestMethod]
    public void Grouped_conv_maps_each_input_channel_to_its_group()
    {
        using var fixture = new DarknetFixture();
        // [batchnorm] over 2 channels, then a depthwise 1x1 conv (groups=2): W is (2, 1, 1, 1).
        var model = fixture.Create(Net + "[batchnorm]\n\n[convolutional]\nfilters=2\ngroups=2\nsize=1\nstride=1\nactivation=linear\n",
        [
            1f, 2f,    // beta
            3f, 5f,    // gamma
            0f, 0f,    // mean
            1f, 1f,    // var
            0f, 0f,    // conv biases
            7f, 11f,   // W[0], W[1]
        ]);

        PassManager.Run(model.Graph);

        var conv = model.Graph.Nodes.Single();
        var d = Math.Sqrt(1 + 1e-5);
        // Output channel c only sees input channel c: W'[c] = W[c] * gamma_c / d, b'_c = W[c] * beta_c.
        CollectionAssert.AreEqual(new[] { (float)(7 * 3 / d), (float)(11 * 5 / d) }, model.Graph.Initializers[conv.Inputs[1]].Data!.ToArray());
        CollectionAssert.AreEqual(new[] { 7f * 1f, 11f * 2f }, model.Graph.Initializers[conv.Inputs[2]].Data!.ToArray());
    }
}
