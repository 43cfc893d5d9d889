using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [connected]: flattens its input; MACC inputs x outputs.</summary>
[TestClass]
public sealed class FullyConnectedTests
{
    [TestMethod]
    public void Params_and_macc_of_a_connected_layer_after_an_image()
    {
        // 7x7x1024 = 50,176 inputs -> 4096 outputs: MACC = 50,176 * 4096 = 205,520,896;
        // params = 205,520,896 weights + 4096 biases = 205,524,992.
        var report = DarknetCfg.Analyze("[net]\nwidth=7\nheight=7\nchannels=1024\n[connected]\noutput=4096\nactivation=leaky\n");

        var fc = report.Layer(0);
        Assert.AreEqual("1x4096x1x1", fc.OutputShape);
        Assert.AreEqual(205_520_896L, fc.Cost.Macc);
        Assert.AreEqual(205_524_992L, fc.Cost.Params);
        Assert.AreEqual(2 * 205_520_896L, fc.Cost.Flops);
    }

    [TestMethod]
    public void Batch_normalize_adds_scales_mean_and_variance_per_output()
    {
        // 256 -> 10 with BN: weights 2,560 + biases 10 + 3 x 10 statistics = 2,600.
        var report = DarknetCfg.Analyze("[net]\nwidth=4\nheight=4\nchannels=16\n[connected]\noutput=10\nbatch_normalize=1\n");

        Assert.AreEqual(2_600L, report.Layer(0).Cost.Params);
        Assert.AreEqual(2_560L, report.Layer(0).Cost.Macc);
    }

    [TestMethod]
    public void Naive_memory_access_reads_one_input_per_mac()
    {
        // 256 -> 10: 2,560 input reads + 10 outputs + 2,570 weights and biases = 5,140;
        // ideal reads the 256 inputs once: 256 + 10 + 2,570 = 2,836.
        var report = DarknetCfg.Analyze("[net]\nwidth=4\nheight=4\nchannels=16\n[connected]\noutput=10\nactivation=linear\n");

        Assert.AreEqual(5_140L, report.Layer(0).Cost.MemoryAccess);
        Assert.AreEqual(2_836L, report.Layer(0).Cost.MemoryAccessIdeal);
    }
}
