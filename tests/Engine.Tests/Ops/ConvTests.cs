using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [convolutional] through the Conv op: output size, MACC and parameters, by hand.</summary>
[TestClass]
public sealed class ConvTests
{
    [TestMethod]
    [DataRow(416, 3, 1, 1, 416)] // (416 + 2 - 3)/1 + 1
    [DataRow(416, 3, 2, 1, 208)] // (416 + 2 - 3)/2 + 1 = 207 + 1
    [DataRow(13, 1, 1, 0, 13)] // 1x1 needs no padding
    [DataRow(13, 3, 1, 0, 11)] // no pad: (13 - 3)/1 + 1
    [DataRow(7, 3, 2, 1, 4)] // (7 + 2 - 3)/2 + 1
    public void Output_size_is_darknets_in_plus_2pad_minus_size_over_stride_plus_1(int input, int size, int stride, int pad, int expected)
    {
        var report = DarknetCfg.Analyze($"[net]\nwidth={input}\nheight={input}\nchannels=3\n[convolutional]\nfilters=16\nsize={size}\nstride={stride}\npad={pad}\n");

        Assert.AreEqual($"1x16x{expected}x{expected}", report.Layer(0).OutputShape);
    }

    [TestMethod]
    public void Macc_and_params_of_a_plain_conv()
    {
        // 26x26x128 -> 26x26x256, 3x3: MACC = 3*3*128 * 26*26*256 = 1152 * 173,056 = 199,360,512;
        // params = 3*3*128*256 weights + 256 biases = 294,912 + 256 = 295,168.
        var report = DarknetCfg.Analyze("[net]\nwidth=26\nheight=26\nchannels=128\n[convolutional]\nfilters=256\nsize=3\npad=1\nactivation=leaky\n");

        Assert.AreEqual(199_360_512L, report.Layer(0).Cost.Macc);
        Assert.AreEqual(295_168L, report.Layer(0).Cost.Params);

        // Bias adds are a secondary term, one per output element: 26*26*256 = 173,056.
        Assert.AreEqual(173_056L, report.Layer(0).Cost.Secondary.Bias);
    }

    [TestMethod]
    public void Batch_norm_replaces_the_bias_and_adds_three_statistics_per_filter()
    {
        // Same conv with batch_normalize=1: weights 294,912 + biases (BN shift) 256 + scales, mean,
        // variance 3*256 = 295,936. MACC unchanged; no bias-add term (the BN shift does it).
        var report = DarknetCfg.Analyze("[net]\nwidth=26\nheight=26\nchannels=128\n[convolutional]\nbatch_normalize=1\nfilters=256\nsize=3\npad=1\nactivation=leaky\n");

        Assert.AreEqual(199_360_512L, report.Layer(0).Cost.Macc);
        Assert.AreEqual(295_936L, report.Layer(0).Cost.Params);
        Assert.AreEqual(0L, report.Layer(0).Cost.Secondary.Bias);
    }

    [TestMethod]
    public void A_depthwise_conv_sums_over_one_channel_per_filter()
    {
        // groups = channels = filters = 32 on 112x112: each output sums 3*3*(32/32) = 9 inputs.
        // MACC = 9 * 112*112*32 = 9 * 401,408 = 3,612,672 (a dense conv would be 32x that).
        // params = 32 filters * 1 channel * 3*3 + 32 biases = 320.
        var report = DarknetCfg.Analyze("[net]\nwidth=112\nheight=112\nchannels=32\n[convolutional]\nfilters=32\ngroups=32\nsize=3\npad=1\nactivation=relu\n");

        Assert.AreEqual("1x32x112x112", report.Layer(0).OutputShape);
        Assert.AreEqual(3_612_672L, report.Layer(0).Cost.Macc);
        Assert.AreEqual(320L, report.Layer(0).Cost.Params);
    }

    [TestMethod]
    public void A_grouped_conv_divides_macc_and_weights_by_the_groups()
    {
        // 56x56x64 -> 56x56x128 in 4 groups, 3x3: MACC = 3*3*(64/4) * 56*56*128 = 144 * 401,408 = 57,802,752;
        // weights 128 * 16 * 9 = 18,432 + 128 biases = 18,560.
        var report = DarknetCfg.Analyze("[net]\nwidth=56\nheight=56\nchannels=64\n[convolutional]\nfilters=128\ngroups=4\nsize=3\npad=1\nactivation=linear\n");

        Assert.AreEqual(57_802_752L, report.Layer(0).Cost.Macc);
        Assert.AreEqual(18_560L, report.Layer(0).Cost.Params);
    }

    [TestMethod]
    public void A_dilated_conv_keeps_darknets_output_size_and_the_undilated_macc()
    {
        // Darknet sizes a conv as (in + 2*pad - size)/stride + 1 whatever the dilation:
        // 32x32, size 3, pad 1, stride 2 -> (32 + 2 - 3)/2 + 1 = 16 (darknet ops prints 16 x 16 x 8).
        // The kernel still has 3*3 taps: MACC = 3*3*16 * 16*16*8 = 144 * 2048 = 294,912.
        var report = DarknetCfg.Analyze("[net]\nwidth=32\nheight=32\nchannels=16\n[convolutional]\nfilters=8\nsize=3\npad=1\nstride=2\ndilation=2\n");

        Assert.AreEqual("1x8x16x16", report.Layer(0).OutputShape);
        Assert.AreEqual(294_912L, report.Layer(0).Cost.Macc);
    }

    [TestMethod]
    public void Stride_x_and_stride_y_size_width_and_height_separately()
    {
        // 32x32, size 1: stride_x=2 halves the width, stride_y=1 keeps the height.
        var report = DarknetCfg.Analyze("[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nfilters=4\nsize=1\nstride_x=2\nstride_y=1\n");

        Assert.AreEqual("1x4x32x16", report.Layer(0).OutputShape);
    }
}
