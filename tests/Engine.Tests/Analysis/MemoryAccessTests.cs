using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>The memory-access conventions of docs/metrics.md, on its worked examples.</summary>
[TestClass]
public sealed class MemoryAccessTests
{
    [TestMethod]
    public void Naive_memory_access_of_the_first_metrics_example()
    {
        // 224x224x3 -> 112x112x32, k=3, s=2 (pad 1: (224 + 2 - 3)/2 + 1 = 112).
        //   input reads  = 3*3*3 * 112*112*32 = 27 * 401,408 = 10,838,016 (one per MAC)
        //   output       = 112*112*32                        =    401,408
        //   weights      = 3*3*3*32 + 32                      =        896
        //   total                                             = 11,240,320
        var report = DarknetCfg.Analyze("[net]\nwidth=224\nheight=224\nchannels=3\n[convolutional]\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=linear\n");

        Assert.AreEqual("1x32x112x112", report.Layer(0).OutputShape);
        Assert.AreEqual(10_838_016L + 401_408L + 896L, report.Layer(0).Cost.MemoryAccess);
        Assert.AreEqual(11_240_320L, report.Totals.MemoryAccess);
    }

    [TestMethod]
    public void Naive_memory_access_of_the_second_metrics_example()
    {
        // 28x28x256 -> 28x28x512, k=3 (pad 1, stride 1).
        //   input reads = 3*3*256 * 28*28*512 = 2,304 * 401,408 = 924,844,032
        //   output      = 28*28*512                            =     401,408
        //   weights     = 3*3*256*512 + 512                    =   1,180,160
        var report = DarknetCfg.Analyze("[net]\nwidth=28\nheight=28\nchannels=256\n[convolutional]\nfilters=512\nsize=3\npad=1\nactivation=linear\n");

        Assert.AreEqual(924_844_032L + 401_408L + 1_180_160L, report.Totals.MemoryAccess);
    }

    [TestMethod]
    public void Ideal_memory_access_touches_every_tensor_once()
    {
        // First example: input 224*224*3 = 150,528 + output 401,408 + weights 896 = 552,832.
        var first = DarknetCfg.Analyze("[net]\nwidth=224\nheight=224\nchannels=3\n[convolutional]\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=linear\n");
        Assert.AreEqual(552_832L, first.Totals.MemoryAccessIdeal);

        // Second: 28*28*256 = 200,704 + 401,408 + 1,180,160 = 1,782,272.
        var second = DarknetCfg.Analyze("[net]\nwidth=28\nheight=28\nchannels=256\n[convolutional]\nfilters=512\nsize=3\npad=1\nactivation=linear\n");
        Assert.AreEqual(1_782_272L, second.Totals.MemoryAccessIdeal);
    }

    [TestMethod]
    public void Batch_norm_and_activation_each_read_and_write_the_tensor_once_more()
    {
        // The first example with batch_normalize=1 and leaky: the conv has no bias (BN's shift is
        // it), so the conv reads 864 weights; BN reads and writes 401,408 and its 4 x 32 vectors;
        // leaky reads and writes 401,408. This is what fusing BN and the activation saves.
        //   conv  (ideal) 150,528 + 401,408 + 864       =   552,800
        //   BN            401,408 + 401,408 + 128       =   802,944
        //   leaky         401,408 + 401,408             =   802,816
        //   total                                         2,158,560
        var report = DarknetCfg.Analyze("[net]\nwidth=224\nheight=224\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=leaky\n");

        Assert.AreEqual(2_158_560L, report.Totals.MemoryAccessIdeal);

        // Naive differs only in the conv's input reads: 10,838,016 instead of 150,528.
        Assert.AreEqual(2_158_560L - 150_528L + 10_838_016L, report.Totals.MemoryAccess);
    }
}
