using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>How node costs become the per-layer rows and totals people read.</summary>
[TestClass]
public sealed class CostModelTests
{
    private const string ConvBnLeaky = """
        [net]
        width=13
        height=13
        channels=256

        [convolutional]
        batch_normalize=1
        filters=512
        size=3
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=1
        """;

    [TestMethod]
    public void A_conv_with_batch_norm_and_activation_is_one_row_with_its_three_ops()
    {
        var report = DarknetCfg.Analyze(ConvBnLeaky);

        Assert.HasCount(2, report.Layers);
        var conv = report.Layer(0);
        CollectionAssert.AreEqual(new[] { "Conv", "BatchNormalization", "Activation" }, conv.Ops.ToArray());
        Assert.AreEqual("convolutional", conv.Kind);
        Assert.AreEqual(6, conv.Location.Line);

        // Secondary terms of the row: BN 2 per element, leaky 1 per element, 13*13*512 = 86,528 elements.
        Assert.AreEqual(2 * 86_528L, conv.Cost.Secondary.Normalization);
        Assert.AreEqual(86_528L, conv.Cost.Secondary.Activation);
    }

    [TestMethod]
    public void Totals_are_the_sums_of_the_rows()
    {
        var report = DarknetCfg.Analyze(ConvBnLeaky);

        Assert.AreEqual(report.Layers.Sum(l => l.Cost.Macc), report.Totals.Macc);
        Assert.AreEqual(report.Layers.Sum(l => l.Cost.Params), report.Totals.Params);
        Assert.AreEqual(report.Layers.Sum(l => l.Cost.MemoryAccess), report.Totals.MemoryAccess);
        Assert.AreEqual(report.Layers.Sum(l => l.Cost.ActivationBytes), report.Totals.ActivationBytes);
    }

    [TestMethod]
    public void Weights_bytes_are_four_per_stored_float()
    {
        // 3*3*256*512 weights + 4 x 512 BN vectors = 1,179,648 + 2,048 = 1,181,696 floats = 4,726,784 bytes.
        var report = DarknetCfg.Analyze(ConvBnLeaky);

        Assert.AreEqual(1_181_696L, report.Totals.Params);
        Assert.AreEqual(4_726_784L, report.Totals.WeightsBytes);
    }

    [TestMethod]
    public void Macc_and_flops_are_linear_in_the_batch()
    {
        // 3*3*256 * 13*13*512 = 2,304 * 86,528 = 199,360,512 per image.
        var one = DarknetCfg.Analyze(ConvBnLeaky);
        var three = DarknetCfg.Analyze(ConvBnLeaky, options: new() { InputShape = Shape.Parse("3x256x13x13") });

        Assert.AreEqual(199_360_512L, one.Totals.Macc);
        Assert.AreEqual(3 * 199_360_512L, three.Totals.Macc);
        Assert.AreEqual(3 * one.Totals.Flops, three.Totals.Flops);
        Assert.AreEqual(3 * one.Totals.ActivationBytes, three.Totals.ActivationBytes);
        Assert.AreEqual(one.Totals.Params, three.Totals.Params);
    }

    [TestMethod]
    public void The_input_shape_option_replaces_the_net_size()
    {
        // At 26x26 the conv output has 4x the elements: MACC 4 x 199,360,512.
        var report = DarknetCfg.Analyze(ConvBnLeaky, options: new() { InputShape = Shape.Parse("1x256x26x26") });

        Assert.AreEqual("1x512x26x26", report.Layer(0).OutputShape);
        Assert.AreEqual(4 * 199_360_512L, report.Totals.Macc);
        Assert.AreEqual("1x256x26x26", report.InputShape);
    }
}
