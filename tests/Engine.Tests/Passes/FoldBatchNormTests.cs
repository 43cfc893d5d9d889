using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>Fold arithmetic checked against values computed by hand in each test.</summary>
[TestClass]
public sealed class FoldBatchNormTests
{
    private const string Net = "[net]\nwidth=4\nheight=4\nchannels=2\n\n";

    [TestMethod]
    public void Conv_with_batchnorm_folds_to_scaled_weights_and_shifted_bias_alexeyab()
    {
        using var fixture = new DarknetFixture();
        // 1x1 conv, 2 input channels, 2 filters. File order: biases(beta), scales, mean, var, weights.
        var model = fixture.Create(Net + "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=1\nstride=1\nactivation=linear\n",
        [
            0.5f, -1f,        // beta
            2f, 3f,           // gamma
            1f, -2f,          // mean
            4f, 0.25f,        // var
            1f, 2f, 3f, 4f,   // W[0,:], W[1,:]
        ]);

        var report = PassManager.Run(model.Graph);

        Assert.AreEqual(1, report.Applied.Count());
        Assert.IsFalse(model.Graph.Nodes.Any(n => n.OpType == "BatchNormalization"));
        var conv = model.Graph.Nodes.Single(n => n.OpType == "Conv");
        var w = model.Graph.Initializers[conv.Inputs[1]].Data!.ToArray();
        var b = model.Graph.Initializers[conv.Inputs[2]].Data!.ToArray();

        // a0 = 2 / sqrt(4 + 1e-5), a1 = 3 / sqrt(0.25 + 1e-5)
        var a0 = 2 / Math.Sqrt(4 + 1e-5);
        var a1 = 3 / Math.Sqrt(0.25 + 1e-5);
        CollectionAssert.AreEqual(new[] { (float)(a0 * 1), (float)(a0 * 2), (float)(a1 * 3), (float)(a1 * 4) }, w);
        // b' = a * (0 - mean) + beta
        CollectionAssert.AreEqual(new[] { (float)((a0 * -1) + 0.5), (float)((a1 * 2) - 1) }, b);
    }

    [TestMethod]
    public void Pjreddie_dialect_puts_epsilon_outside_the_root()
    {
        using var fixture = new DarknetFixture();
        var model = fixture.Create(Net + "[convolutional]\nbatch_normalize=1\nfilters=1\nsize=1\nstride=1\nactivation=linear\n",
            [0f, 1f, 0f, 1e-4f, 1f, 1f], DarknetDialect.Pjreddie);

        PassManager.Run(model.Graph);

        var conv = model.Graph.Nodes.Single(n => n.OpType == "Conv");
        var w = model.Graph.Initializers[conv.Inputs[1]].Data!.ToArray();
        // D = sqrt(1e-4) + 1e-6 = 0.010001 → a = 99.990001…; AlexeyAB would give 1/sqrt(1.1e-4) = 95.346…
        Assert.AreEqual((float)(1 / (Math.Sqrt((double)1e-4f) + 1e-6)), w[0]);
    }

    [TestMethod]
    public void Grouped_conv_scales_each_output_channel_slice_of_its_group()
    {
        using var fixture = new DarknetFixture();
        // Depthwise 1x1: 2 channels, groups=2 → W is (2, 1, 1, 1).
        var model = fixture.Create(Net + "[convolutional]\nbatch_normalize=1\nfilters=2\ngroups=2\nsize=1\nstride=1\nactivation=linear\n",
            [0f, 0f, 1f, 2f, 0f, 0f, 1f, 1f, 5f, 7f]);

        PassManager.Run(model.Graph);

        var conv = model.Graph.Nodes.Single(n => n.OpType == "Conv");
        var w = model.Graph.Initializers[conv.Inputs[1]].Data!.ToArray();
        var d = Math.Sqrt(1 + 1e-5);
        CollectionAssert.AreEqual(new[] { (float)(5 / d), (float)(2 * 7 / d) }, w);
    }

    [TestMethod]
    public void Connected_with_batchnorm_uses_its_own_epsilon_and_file_order()
    {
        using var fixture = new DarknetFixture();
        // [connected] order: biases, weights (J x I), scales, mean, var. Input 2x4x4 = 32 values.
        var weights = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var floats = new List<float> { 0.25f };
        floats.AddRange(weights);
        floats.AddRange([2f, 1f, 0.5f]);
        var model = fixture.Create(Net + "[connected]\noutput=1\nbatch_normalize=1\nactivation=linear\n", [.. floats]);

        PassManager.Run(model.Graph);

        var fc = model.Graph.Nodes.Single(n => n.OpType == "FullyConnected");
        var a = 2 / Math.Sqrt(0.5 + 1e-6); // AlexeyAB [connected]: sqrt(var + 1e-6)
        var w = model.Graph.Initializers[fc.Inputs[1]].Data!.ToArray();
        Assert.AreEqual((float)(a * 31), w[31]);
        Assert.AreEqual((float)((a * -1) + 0.25), model.Graph.Initializers[fc.Inputs[2]].Data!.ToArray()[0]);
    }

    [TestMethod]
    public void Deconvolution_scales_along_its_output_channel_axis()
    {
        using var fixture = new DarknetFixture();
        // 2 input channels, 3 filters, size 1: W is (Cin=2, Cout=3, 1, 1). Order: biases(3), scales(3), mean(3), var(3), weights(6).
        var model = fixture.Create(Net + "[deconvolutional]\nbatch_normalize=1\nfilters=3\nsize=1\nstride=1\nactivation=linear\n",
        [
            0, 0, 0,
            1, 2, 3,
            0, 0, 0,
            1, 1, 1,
            10, 20, 30, 40, 50, 60,
        ]);

        PassManager.Run(model.Graph);

        var deconv = model.Graph.Nodes.Single(n => n.OpType == "ConvTranspose");
        var w = model.Graph.Initializers[deconv.Inputs[1]].Data!.ToArray();
        var d = Math.Sqrt(1 + 1e-5);
        // W[i, j] scales by a_j: row i=0 → 10*1, 20*2, 30*3; row i=1 → 40*1, 50*2, 60*3.
        CollectionAssert.AreEqual(new[] { 10 / d, 40 / d, 90 / d, 40 / d, 100 / d, 180 / d }.Select(v => (float)v).ToArray(), w);
    }

    [TestMethod]
    public void Conv_without_batchnorm_is_left_untouched()
    {
        using var fixture = new DarknetFixture();
        var model = fixture.Create(Net + "[convolutional]\nfilters=1\nsize=1\nstride=1\nactivation=leaky\n", [0.5f, 1f, 2f]);

        var report = PassManager.Run(model.Graph);

        Assert.IsEmpty(report.Events);
        var conv = model.Graph.Nodes.Single(n => n.OpType == "Conv");
        Assert.IsInstanceOfType<FileSliceData>(model.Graph.Initializers[conv.Inputs[1]].Data);
    }

    [TestMethod]
    public void Conv_output_read_by_two_layers_is_not_folded_and_the_report_says_why()
    {
        using var fixture = new DarknetFixture();
        // Layer 0 conv (no BN, linear) is read by layer 1 [batchnorm] and by layer 2 [route].
        var model = fixture.Create(Net +
            "[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=linear\n\n[batchnorm]\n\n[route]\nlayers=-1,-2\n",
            [0, 0, 1, 0, 0, 1, /* batchnorm: biases, scales, mean, var */ 0, 0, 1, 1, 0, 0, 1, 1]);

        var report = PassManager.Run(model.Graph);

        var refusal = report.NotApplied.Single();
        Assert.AreEqual(1, refusal.Origin.Index);
        StringAssert.Contains(refusal.Detail, "read by 2 consumers");
        Assert.AreEqual(1, model.Graph.Nodes.Count(n => n.OpType == "BatchNormalization"));
    }

    [TestMethod]
    public void Near_zero_variance_channels_are_warned_about_by_index()
    {
        using var fixture = new DarknetFixture();
        var model = fixture.Create(Net + "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=1\nstride=1\nactivation=linear\n",
            [0, 0, 0, 1, 1, 1, 0, 0, 0, 1f, 2e-6f, 1f, 1, 1, 1, 1, 1, 1]);

        var report = PassManager.Run(model.Graph);

        var warning = report.Warnings.Single();
        Assert.AreEqual("NM2003", warning.Code);
        StringAssert.Contains(warning.Message, "1 channel(s)");
        StringAssert.Contains(warning.Message, ": 1 (var 2E-06)");
        Assert.AreEqual(6, warning.Location.Line);
    }

    [TestMethod]
    [DataRow(float.NaN)]
    [DataRow(float.PositiveInfinity)]
    public void Non_finite_statistics_are_a_coded_error(float bad)
    {
        using var fixture = new DarknetFixture();
        var model = fixture.Create(Net + "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=1\nstride=1\nactivation=linear\n",
            [0, 0, 1, 1, 0, bad, 1, 1, 1, 1, 1, 1]);

        var error = Assert.ThrowsExactly<NeuralException>(() => PassManager.Run(model.Graph));

        Assert.AreEqual("NM0040", error.Code);
        StringAssert.Contains(error.Message, "mean of channel 1");
        Assert.AreEqual(6, error.Location.Line);
    }
}
