using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [local] (yolov1): a convolution with its own weights at every output location.</summary>
[TestClass]
public sealed class LocallyConnectedTests
{
    [TestMethod]
    public void Yolov1s_local_layer_shape_params_and_macc()
    {
        // yolov1.cfg: 7x7x1024 -> [local] size=3 stride=1 pad=1 filters=256. Darknet's local size
        // with pad is (in - 1)/stride + 1 = 7 (darknet ops prints "7 x 7 x 1024 image, 256 filters
        // -> 7 x 7 x 256 image"). Weights: 49 locations x 256 filters x 1024*3*3 = 115,605,504;
        // biases: one per output element, 7*7*256 = 12,544; params 115,618,048.
        // MACC = 3*3*1024 per output element x 12,544 = 115,605,504.
        var report = DarknetCfg.Analyze("[net]\nwidth=7\nheight=7\nchannels=1024\n[local]\nsize=3\nstride=1\npad=1\nfilters=256\nactivation=leaky\n");

        var local = report.Layer(0);
        Assert.AreEqual("1x256x7x7", local.OutputShape);
        Assert.AreEqual(115_618_048L, local.Cost.Params);
        Assert.AreEqual(115_605_504L, local.Cost.Macc);
    }

    [TestMethod]
    public void Without_pad_the_kernel_must_fit()
    {
        // (7 - 3)/1 + 1 = 5.
        var report = DarknetCfg.Analyze("[net]\nwidth=7\nheight=7\nchannels=8\n[local]\nsize=3\nstride=1\nfilters=4\n");

        Assert.AreEqual("1x4x5x5", report.Layer(0).OutputShape);
    }

    [TestMethod]
    public void Darknet_ops_does_not_count_local_layers()
    {
        // pjreddie's ops counts [convolutional] and [connected] only; yolov1's 40,190,248,448 matches that.
        var report = DarknetCfg.Analyze("[net]\nwidth=7\nheight=7\nchannels=1024\n[local]\nsize=3\nstride=1\npad=1\nfilters=256\n", "darknet");

        Assert.AreEqual(0L, report.Totals.Flops);
    }
}
