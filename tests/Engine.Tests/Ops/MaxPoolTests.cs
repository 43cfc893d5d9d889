using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>
/// Darknet [maxpool]: output <c>(in + padding - size)/stride + 1</c> with padding defaulting to
/// <c>size - 1</c> (darknet ops prints the same sizes); cost one comparison per window element.
/// </summary>
[TestClass]
public sealed class MaxPoolTests
{
    [TestMethod]
    [DataRow(416, 2, 2, 208)] // (416 + 1 - 2)/2 + 1 = 207 + 1
    [DataRow(13, 2, 2, 7)] // (13 + 1 - 2)/2 + 1 = 6 + 1: an odd size rounds up
    [DataRow(13, 2, 1, 13)] // (13 + 1 - 2)/1 + 1: yolov3-tiny's stride-1 maxpool keeps the size
    [DataRow(19, 5, 1, 19)] // (19 + 4 - 5)/1 + 1: SPP's 5x5
    [DataRow(19, 13, 1, 19)] // (19 + 12 - 13)/1 + 1: SPP's 13x13
    [DataRow(8, 3, 2, 4)] // (8 + 2 - 3)/2 + 1 = 3 + 1
    public void Output_size_follows_darknet(int input, int size, int stride, int expected)
    {
        var report = DarknetCfg.Analyze($"[net]\nwidth={input}\nheight={input}\nchannels=16\n[maxpool]\nsize={size}\nstride={stride}\n");

        Assert.AreEqual($"1x16x{expected}x{expected}", report.Layer(0).OutputShape);
    }

    [TestMethod]
    public void An_explicit_padding_replaces_size_minus_one()
    {
        // padding=0: (13 + 0 - 2)/2 + 1 = 5 + 1 = 6 instead of 7.
        var report = DarknetCfg.Analyze("[net]\nwidth=13\nheight=13\nchannels=16\n[maxpool]\nsize=2\nstride=2\npadding=0\n");

        Assert.AreEqual("1x16x6x6", report.Layer(0).OutputShape);
    }

    [TestMethod]
    public void Cost_is_one_comparison_per_window_element_and_no_macc()
    {
        // 26x26x256 -> 13x13x256, 2x2 windows: 2*2 * 13*13*256 = 4 * 43,264 = 173,056.
        var report = DarknetCfg.Analyze("[net]\nwidth=26\nheight=26\nchannels=256\n[maxpool]\nsize=2\nstride=2\n");

        Assert.AreEqual(0L, report.Layer(0).Cost.Macc);
        Assert.AreEqual(173_056L, report.Layer(0).Cost.Secondary.Pooling);
        Assert.AreEqual(0L, report.Layer(0).Cost.Params);
    }
}
