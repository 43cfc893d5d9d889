using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [upsample]: nearest-neighbour by an integer stride; no arithmetic.</summary>
[TestClass]
public sealed class UpsampleTests
{
    [TestMethod]
    [DataRow(2, "1x256x26x26")] // yolov3: 13x13x256 -> 26x26x256
    [DataRow(4, "1x256x52x52")]
    public void Stride_multiplies_width_and_height(int stride, string expected)
    {
        var report = DarknetCfg.Analyze($"[net]\nwidth=13\nheight=13\nchannels=256\n[upsample]\nstride={stride}\n");

        Assert.AreEqual(expected, report.Layer(0).OutputShape);
        Assert.AreEqual(0L, report.Layer(0).Cost.Macc);
        Assert.AreEqual(0L, report.Layer(0).Cost.Secondary.Total);
    }

    [TestMethod]
    public void The_default_stride_is_2()
    {
        var report = DarknetCfg.Analyze("[net]\nwidth=13\nheight=13\nchannels=8\n[upsample]\n");

        Assert.AreEqual("1x8x26x26", report.Layer(0).OutputShape);
    }

    [TestMethod]
    public void Memory_access_reads_the_input_and_writes_the_output()
    {
        // 13*13*256 = 43,264 read, 26*26*256 = 173,056 written.
        var report = DarknetCfg.Analyze("[net]\nwidth=13\nheight=13\nchannels=256\n[upsample]\nstride=2\n");

        Assert.AreEqual(43_264L + 173_056L, report.Layer(0).Cost.MemoryAccessIdeal);
    }
}
