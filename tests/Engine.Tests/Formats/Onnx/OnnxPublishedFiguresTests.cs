using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// torchvision models exported to ONNX (opset 13, BatchNormalization kept, random weights; see
/// export_models.py) read through the format registry reproduce the published figures.
/// Parameters: torchvision's published counts include each BN's scale and shift but not its running
/// mean and variance, which the ONNX file stores and docs/metrics.md counts; so the expected count is the
/// published one plus 2 x the BN channels, which each test derives by hand from the architecture's
/// published table (never from our output). MACC: the published figure of docs/metrics.md where it lists the model,
/// else torchvision's published GFLOPS (MACs of conv + FC, two decimals) and a hand derivation.
/// </summary>
[TestClass]
public sealed class OnnxPublishedFiguresTests
{
    private static ModelReport Analyze(string model) => CostModel.Analyze(ModelFormats.Read(OnnxExport.PathOf(model)));

    [TestMethod]
    public void ResNet18_matches_the_published_figures()
    {
        var report = Analyze("resnet18");
        Assert.AreEqual("onnx", report.Format);
        Assert.AreEqual("1x3x224x224", report.InputShape);
        Assert.AreEqual(1_814_073_344L, report.Totals.Macc);
        Assert.AreEqual(2 * 1_814_073_344L, report.Totals.Flops);

        // BN channels: conv1 64; two basic blocks per stage with two BNs of the stage width each;
        // stages 2-4 add a projection shortcut BN of their width.
        long[] widths = [64, 128, 256, 512];
        var bnChannels = 64 + widths.Sum(w => (2 * 2 * w) + (w == 64 ? 0 : w));
        Assert.AreEqual(4_800L, bnChannels);
        Assert.AreEqual(11_689_512L + (2 * bnChannels), report.Totals.Params);
        Assert.AreEqual("1x1000", report.Layers[^1].OutputShape);
    }

    [TestMethod]
    public void ResNet50_matches_the_published_params_and_torchvision_v1_5_macc()
    {
        var report = Analyze("resnet50");

        // Bottleneck of width w: BNs of w, w, 4w; stages of width 64/128/256/512 have 3/4/6/3 blocks
        // and one projection shortcut BN of 4w each; plus conv1's 64.
        long[] widths = [64, 128, 256, 512];
        long[] blocks = [3, 4, 6, 3];
        var bnChannels = 64 + widths.Zip(blocks).Sum(s => (s.Second * 6 * s.First) + (4 * s.First));
        Assert.AreEqual(26_560L, bnChannels);
        Assert.AreEqual(25_557_032L + (2 * bnChannels), report.Totals.Params);

        // The published 3,857,973,248 (He et al.) is ResNet-50 v1 (stride 2 in the first 1x1 conv of stages 3-5).
        // torchvision's is v1.5 (published 4.09 GFLOPS): the stride moves to the 3x3 conv, so that
        // 1x1 conv (Cin -> w) runs at the stage's input resolution H instead of H/2:
        // extra Cin*w*(H^2 - (H/2)^2) per stage = Cin*w*3H^2/4.
        (long Cin, long W, long H)[] downsampling = [(256, 128, 56), (512, 256, 28), (1024, 512, 14)];
        var extra = downsampling.Sum(s => s.Cin * s.W * 3 * s.H * s.H / 4);
        Assert.AreEqual(231_211_008L, extra);
        Assert.AreEqual(3_857_973_248L + extra, report.Totals.Macc);
        Assert.AreEqual(4.09, Math.Round(report.Totals.Macc / 1e9, 2));
    }

    [TestMethod]
    public void MobileNetV2_matches_the_published_figures()
    {
        var report = Analyze("mobilenet_v2");
        Assert.AreEqual(300_774_272L, report.Totals.Macc);

        // Sandler et al., table 2: (t, c, n) rows after the 32-channel stem. A block with input cin
        // has BNs of t*cin (expand, absent when t = 1), t*cin (depthwise) and c (project); then the
        // final 1x1 conv's 1280.
        (long T, long C, long N)[] rows = [(1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1)];
        long bnChannels = 32, cin = 32;
        foreach (var (t, c, n) in rows)
        {
            for (var i = 0; i < n; i++)
            {
                bnChannels += (t == 1 ? 0 : t * cin) + (t * cin) + c;
                cin = c;
            }
        }

        bnChannels += 1280;
        Assert.AreEqual(17_056L, bnChannels);
        Assert.AreEqual(3_504_872L + (2 * bnChannels), report.Totals.Params);
    }

    [TestMethod]
    public void SqueezeNet11_matches_the_published_figures()
    {
        // No BatchNorm: the published count exactly. Its max pools use ceil_mode.
        var report = Analyze("squeezenet1_1");
        Assert.AreEqual(1_235_496L, report.Totals.Params);
        Assert.AreEqual(349_151_936L, report.Totals.Macc);
    }

    [TestMethod]
    public void GoogLeNet_is_the_published_Caffe_figure_less_torchvisions_3x3_instead_of_5x5_branch()
    {
        var report = Analyze("googlenet");

        // Inception configurations (Szegedy et al., table 1): 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5,
        // pool proj, at the feature map size. torchvision follows them but its "5x5" branch is a 3x3
        // conv (kept for compatibility with its weights) and every conv has BN and no bias.
        (long B1, long R3, long C3, long R5, long C5, long Pool, long Hw)[] inceptions =
        [
            (64, 96, 128, 16, 32, 32, 28), (128, 128, 192, 32, 96, 64, 28),
            (192, 96, 208, 16, 48, 64, 14), (160, 112, 224, 24, 64, 64, 14), (128, 128, 256, 24, 64, 64, 14),
            (112, 144, 288, 32, 64, 64, 14), (256, 160, 320, 32, 128, 128, 14),
            (256, 160, 320, 32, 128, 128, 7), (384, 192, 384, 48, 128, 128, 7),
        ];

        // MACC: the published Caffe GoogLeNet figure (1,582,671,872) minus (25 - 9) * R5 * C5 * H * W per inception.
        var fewer = inceptions.Sum(i => (25 - 9) * i.R5 * i.C5 * i.Hw * i.Hw);
        Assert.AreEqual(84_295_680L, fewer);
        Assert.AreEqual(1_582_671_872L - fewer, report.Totals.Macc);
        Assert.AreEqual(1.50, Math.Round(report.Totals.Macc / 1e9, 2)); // torchvision: 1.50 GFLOPS

        // Params: torchvision's published 6,624,904 (aux classifiers removed) plus BN mean and variance
        // of every conv's output channels: conv1 64, conv2 64, conv3 192 and the six convs per inception.
        var bnChannels = 64 + 64 + 192 + inceptions.Sum(i => i.B1 + i.R3 + i.C3 + i.R5 + i.C5 + i.Pool);
        Assert.AreEqual(7_280L, bnChannels);
        Assert.AreEqual(6_624_904L + (2 * bnChannels), report.Totals.Params);
    }

    [TestMethod]
    public void ShuffleNetV2_matches_torchvision_and_its_shape_chains_fold()
    {
        // Its channel split is exported as Shape -> Gather -> Add -> Div -> Mul -> Slice chains,
        // folded to constants at read time.
        var report = Analyze("shufflenet_v2_x1_0");
        Assert.AreEqual(0.14, Math.Round(report.Totals.Macc / 1e9, 2)); // torchvision: 0.14 GFLOPS

        // Ma et al., table 5 (1x): conv1 24; stages of 116/232/464 channels with 4/8/4 units; conv5 1024.
        // A stage's first unit (stride 2, input inp, branch width b = out/2) has BNs of inp and b
        // (branch 1) and 3b (branch 2); each further unit 3b.
        (long Inp, long Out, long Units)[] stages = [(24, 116, 4), (116, 232, 8), (232, 464, 4)];
        var bnChannels = 24 + 1024 + stages.Sum(s => s.Inp + (4 * (s.Out / 2)) + (3 * (s.Out / 2) * (s.Units - 1)));
        Assert.AreEqual(8_090L, bnChannels);
        Assert.AreEqual(2_278_604L + (2 * bnChannels), report.Totals.Params);
    }

    [TestMethod]
    public void DenseNet121_matches_torchvision()
    {
        var report = Analyze("densenet121");
        Assert.AreEqual(2.83, Math.Round(report.Totals.Macc / 1e9, 2)); // torchvision: 2.83 GFLOPS

        // Huang et al.: growth 32, bottleneck 4*32 = 128, blocks of 6/12/24/16 layers from 64 channels.
        // A dense layer with input c has BNs of c and 128; a transition's BN has the block's output
        // channels (then halves them); norm0 64 and the final norm5.
        long bnChannels = 64, channels = 64;
        long[] blocks = [6, 12, 24, 16];
        for (var b = 0; b < blocks.Length; b++)
        {
            for (var layer = 0; layer < blocks[b]; layer++)
            {
                bnChannels += channels + 128;
                channels += 32;
            }

            bnChannels += channels; // transition BN, or norm5 after the last block
            if (b < blocks.Length - 1)
            {
                channels /= 2;
            }
        }

        Assert.AreEqual(41_824L, bnChannels);
        Assert.AreEqual(7_978_856L + (2 * bnChannels), report.Totals.Params);
    }
}
