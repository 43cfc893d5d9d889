using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [reorg]: stride x stride spatial blocks become channels (yolov2's passthrough).</summary>
[TestClass]
public sealed class ReorgTests
{
    [TestMethod]
    public void Stride_2_halves_width_and_height_and_quadruples_channels()
    {
        // yolov2: 26x26x64 -> 13x13x(64*4 = 256).
        var report = DarknetCfg.Analyze("[net]\nwidth=26\nheight=26\nchannels=64\n[reorg]\nstride=2\n");

        Assert.AreEqual("1x256x13x13", report.Layer(0).OutputShape);
        Assert.AreEqual(0L, report.Layer(0).Cost.Macc);
    }

    [TestMethod]
    public void Reverse_moves_the_channels_back_into_space()
    {
        // 13x13x256 -> 26x26x(256/4 = 64).
        var report = DarknetCfg.Analyze("[net]\nwidth=13\nheight=13\nchannels=256\n[reorg]\nstride=2\nreverse=1\n");

        Assert.AreEqual("1x64x26x26", report.Layer(0).OutputShape);
    }

    [TestMethod]
    public void Reorg3d_has_the_same_shape_rule()
    {
        var report = DarknetCfg.Analyze("[net]\nwidth=8\nheight=8\nchannels=3\n[reorg3d]\nstride=2\n");

        Assert.AreEqual("1x12x4x4", report.Layer(0).OutputShape);
    }
}
