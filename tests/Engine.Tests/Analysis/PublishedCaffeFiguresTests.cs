using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>
/// The Caffe rows of the published reference figures in docs/metrics.md, reproduced from the corpus deploy prototxts,
/// with the published per-layer shapes where the papers give them. Where a Caffe file stores more
/// than the published count (BatchNorm mean and variance, which docs/metrics.md counts as parameters; a
/// bias the file keeps), the difference is derived by hand below, never read back from our output.
/// </summary>
[TestClass]
public sealed class PublishedCaffeFiguresTests
{
    private static ModelReport Analyze(string file, string? input = null) =>
        CostModel.Analyze(ModelFormats.Read(Path.Combine(TestPaths.CaffeCorpus, file),
            new ModelReadOptions { InputShape = input is null ? null : Shape.Parse(input) }));

    private static string ShapeOf(ModelReport report, string layer) => report.Layers.Single(l => l.Name == layer).OutputShape;

    [TestMethod]
    [DataRow("bvlc_alexnet.deploy.prototxt")]
    [DataRow("bvlc_reference_caffenet.deploy.prototxt")]
    public void AlexNet_and_CaffeNet_match_the_BVLC_figures_at_227(string file)
    {
        // The deploy files declare a batch of 10; costs are per image.
        var report = Analyze(file);
        Assert.AreEqual("1x3x227x227", report.InputShape);
        Assert.AreEqual(60_965_224L, report.Totals.Params);
        Assert.AreEqual(724_406_816L, report.Totals.Macc);
        Assert.AreEqual(2 * 724_406_816L, report.Totals.Flops);

        // Krizhevsky et al.: 55x55x96, pooled to 27x27 (Caffe rounds pooling up: ceil((55-3)/2)+1 = 27),
        // 27x27x256, 13x13x384, 13x13x384, 13x13x256, pooled to 6x6, then 4096, 4096, 1000.
        Assert.AreEqual("1x96x55x55", ShapeOf(report, "conv1"));
        Assert.AreEqual("1x96x27x27", ShapeOf(report, "pool1"));
        Assert.AreEqual("1x256x27x27", ShapeOf(report, "conv2"));
        Assert.AreEqual("1x256x13x13", ShapeOf(report, "pool2"));
        Assert.AreEqual("1x384x13x13", ShapeOf(report, "conv3"));
        Assert.AreEqual("1x384x13x13", ShapeOf(report, "conv4"));
        Assert.AreEqual("1x256x13x13", ShapeOf(report, "conv5"));
        Assert.AreEqual("1x256x6x6", ShapeOf(report, "pool5"));
        Assert.AreEqual("1x4096", ShapeOf(report, "fc6"));
        Assert.AreEqual("1x1000", ShapeOf(report, "fc8"));
    }

    [TestMethod]
    public void AlexNet_conv2_macc_is_the_grouped_hand_count()
    {
        // conv2: 5x5 kernel over 96/2 = 48 input channels per group, 27x27x256 outputs.
        var report = Analyze("bvlc_alexnet.deploy.prototxt");
        Assert.AreEqual(5L * 5 * 48 * 27 * 27 * 256, report.Layers.Single(l => l.Name == "conv2").Cost.Macc);
        Assert.AreEqual((5L * 5 * 48 * 256) + 256, report.Layers.Single(l => l.Name == "conv2").Cost.Params);
    }

    [TestMethod]
    public void GoogLeNet_matches_the_published_figures_and_the_papers_table()
    {
        var report = Analyze("bvlc_googlenet.deploy.prototxt");
        Assert.AreEqual(6_998_552L, report.Totals.Params);
        Assert.AreEqual(1_582_671_872L, report.Totals.Macc);

        // Szegedy et al., table 1 (output sizes).
        Assert.AreEqual("1x64x112x112", ShapeOf(report, "conv1/7x7_s2"));
        Assert.AreEqual("1x64x56x56", ShapeOf(report, "pool1/3x3_s2"));
        Assert.AreEqual("1x192x56x56", ShapeOf(report, "conv2/3x3"));
        Assert.AreEqual("1x192x28x28", ShapeOf(report, "pool2/3x3_s2"));
        Assert.AreEqual("1x256x28x28", ShapeOf(report, "inception_3a/output"));
        Assert.AreEqual("1x480x28x28", ShapeOf(report, "inception_3b/output"));
        Assert.AreEqual("1x480x14x14", ShapeOf(report, "pool3/3x3_s2"));
        Assert.AreEqual("1x512x14x14", ShapeOf(report, "inception_4a/output"));
        Assert.AreEqual("1x512x14x14", ShapeOf(report, "inception_4b/output"));
        Assert.AreEqual("1x512x14x14", ShapeOf(report, "inception_4c/output"));
        Assert.AreEqual("1x528x14x14", ShapeOf(report, "inception_4d/output"));
        Assert.AreEqual("1x832x14x14", ShapeOf(report, "inception_4e/output"));
        Assert.AreEqual("1x832x7x7", ShapeOf(report, "pool4/3x3_s2"));
        Assert.AreEqual("1x832x7x7", ShapeOf(report, "inception_5a/output"));
        Assert.AreEqual("1x1024x7x7", ShapeOf(report, "inception_5b/output"));
        Assert.AreEqual("1x1024x1x1", ShapeOf(report, "pool5/7x7_s1"));
    }

    [TestMethod]
    public void ResNet50_matches_the_published_macc_and_the_published_params_plus_BN_statistics()
    {
        var report = Analyze("resnet50.deploy.prototxt");
        Assert.AreEqual(3_857_973_248L, report.Totals.Macc);

        // The published 25,557,032 counts weights, biases and BN scale/shift. The Caffe file also
        // stores each BN's mean and variance (docs/metrics.md counts them) and conv1 keeps a bias (the only
        // conv without bias_term: false; 64 values).
        // BN channels: conv1 64; a bottleneck of width w has BNs of w, w and 4w channels; stages of
        // width 64/128/256/512 have 3/4/6/3 blocks and one projection shortcut BN of 4w each.
        long[] widths = [64, 128, 256, 512];
        long[] blocks = [3, 4, 6, 3];
        var bnChannels = 64 + widths.Zip(blocks).Sum(s => (s.Second * 6 * s.First) + (4 * s.First));
        Assert.AreEqual(26_560L, bnChannels);
        Assert.AreEqual(25_557_032L + (2 * bnChannels) + 64, report.Totals.Params);

        // He et al., table 1: conv1 112x112, conv2_x 56x56, conv3_x 28x28, conv4_x 14x14, conv5_x 7x7.
        Assert.AreEqual("1x64x112x112", ShapeOf(report, "conv1"));
        Assert.AreEqual("1x64x56x56", ShapeOf(report, "pool1"));
        Assert.AreEqual("1x256x56x56", ShapeOf(report, "res2c"));
        Assert.AreEqual("1x512x28x28", ShapeOf(report, "res3d"));
        Assert.AreEqual("1x1024x14x14", ShapeOf(report, "res4f"));
        Assert.AreEqual("1x2048x7x7", ShapeOf(report, "res5c"));
        Assert.AreEqual("1x2048x1x1", ShapeOf(report, "pool5"));
        Assert.AreEqual("1x1000", ShapeOf(report, "fc1000"));
    }

    [TestMethod]
    public void ResNet50_stores_no_BN_moving_average_factor_as_a_parameter()
    {
        // bn_conv1: 64 means + 64 variances; the third blob (the moving-average factor) is not a parameter.
        var report = Analyze("resnet50.deploy.prototxt");
        Assert.AreEqual(128L, report.Layers.Single(l => l.Name == "bn_conv1").Cost.Params);
        Assert.AreEqual(128L, report.Layers.Single(l => l.Name == "scale_conv1").Cost.Params);
    }

    [TestMethod]
    public void MobileNetV1_matches_the_published_macc_and_the_published_params_plus_BN_statistics()
    {
        var report = Analyze("mobilenet_v1.deploy.prototxt");
        Assert.AreEqual(568_740_352L, report.Totals.Macc);

        // 4,231,976 = weights + biases + BN scale/shift. BN channels: conv1 32, then every
        // depthwise (its input width) and pointwise (its output width) conv of the 13 pairs.
        (long In, long Out)[] pairs = [(32, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 1024), (1024, 1024)];
        var bnChannels = 32 + pairs.Sum(p => p.In + p.Out);
        Assert.AreEqual(10_944L, bnChannels);
        Assert.AreEqual(4_231_976L + (2 * bnChannels), report.Totals.Params);

        Assert.AreEqual("1x32x112x112", ShapeOf(report, "conv1"));
        Assert.AreEqual("1x1024x7x7", ShapeOf(report, "conv6/sep"));
        Assert.AreEqual("1x1024x1x1", ShapeOf(report, "pool6"));
    }

    /// <summary>
    /// The corpus MobileNet v2 is not exactly the published network (docs/metrics.md; its repository's
    /// issue #69). Starting from the paper's 300,774,272 MACC / 3,504,872 params, by hand:
    /// <list type="number">
    /// <item>An extra 1x1 "expand" conv (32 → 32, t = 1 needs none) in the first bottleneck at 112x112:
    /// 112*112*32*32 = 12,845,056 MACC; 32*32 = 1,024 weights plus its BN + Scale (4 x 32 = 128).</item>
    /// <item>The stride 2 sits on conv4_7/dwise instead of conv4_3/dwise, so conv4_3's depthwise
    /// (192 ch) and projection (192 → 64), conv4_4..conv4_6 (64 → 384 → 64) and conv4_7's expand
    /// (64 → 384) run at 28x28 instead of 14x14; conv4_7's depthwise then halves to 14x14 as in the paper.</item>
    /// </list>
    /// Params: the paper's count has no BN mean/variance; the file has both for each of its BN channels.
    /// </summary>
    [TestMethod]
    public void MobileNetV2_corpus_file_departs_from_the_paper_by_the_hand_derived_amounts()
    {
        var report = Analyze("mobilenet_v2.deploy.prototxt");

        const long paperMacc = 300_774_272L;
        var extraExpand = 112L * 112 * 32 * 32;
        const long at14 = 14 * 14, at28 = 28 * 28;
        // MACC per output position of each moved layer, times the positions it gained.
        var conv43 = ((9 * 192) + (192 * 64)) * (at28 - at14);
        var conv44To46 = 3 * ((64 * 384) + (9 * 384) + (384 * 64)) * (at28 - at14);
        var conv47Expand = (64 * 384) * (at28 - at14);
        Assert.AreEqual(12_845_056L, extraExpand);
        Assert.AreEqual(115_492_608L, conv43 + conv44To46 + conv47Expand);
        Assert.AreEqual(paperMacc + extraExpand + conv43 + conv44To46 + conv47Expand, report.Totals.Macc);
        Assert.AreEqual(429_111_936L, report.Totals.Macc);

        // BN channels of the published network: conv1 32; the t=1 block 32 (dw) + 16; each t=6 block
        // 6*c_in (expand) + 6*c_in (dw) + c_out; the last 1x1 conv 1280.
        (long In, long Out)[] t6 = [(16, 24), (24, 24), (24, 32), (32, 32), (32, 32), (32, 64), (64, 64), (64, 64), (64, 64), (64, 96), (96, 96), (96, 96), (96, 160), (160, 160), (160, 160), (160, 320)];
        var paperBnChannels = 32 + 32 + 16 + t6.Sum(b => (12 * b.In) + b.Out) + 1280;
        Assert.AreEqual(17_056L, paperBnChannels);
        const long extraExpandParams = (32 * 32) + (4 * 32);
        Assert.AreEqual(3_504_872L + (2 * paperBnChannels) + extraExpandParams, report.Totals.Params);

        // Where the stride went: conv4_3..4_6 stay at 28x28, conv4_7 halves.
        Assert.AreEqual("1x64x28x28", ShapeOf(report, "conv4_3/linear"));
        Assert.AreEqual("1x64x28x28", ShapeOf(report, "conv4_6/linear"));
        Assert.AreEqual("1x384x28x28", ShapeOf(report, "conv4_7/expand"));
        Assert.AreEqual("1x384x14x14", ShapeOf(report, "conv4_7/dwise"));
        Assert.AreEqual("1x32x112x112", ShapeOf(report, "conv2_1/expand"));
        Assert.AreEqual("1x1280x7x7", ShapeOf(report, "conv6_4"));
    }

    [TestMethod]
    public void SqueezeNet11_matches_torchvision_at_224()
    {
        // The deploy file declares 227; torchvision's figures are for 224.
        var report = Analyze("squeezenet_v1.1.deploy.prototxt", "1x3x224x224");
        Assert.AreEqual(1_235_496L, report.Totals.Params);
        Assert.AreEqual(349_151_936L, report.Totals.Macc);

        // conv1 3x3/2 without padding: (224-3)/2+1 = 111; pool1 3x3/2 rounds up: ceil((111-3)/2)+1 = 55.
        Assert.AreEqual("1x64x111x111", ShapeOf(report, "conv1"));
        Assert.AreEqual("1x64x55x55", ShapeOf(report, "pool1"));
        Assert.AreEqual("1x128x55x55", ShapeOf(report, "fire2/concat"));
        Assert.AreEqual("1x1000x1x1", ShapeOf(report, "pool10"));
    }

    [TestMethod]
    public void Costs_scale_with_an_explicit_batch()
    {
        var one = Analyze("squeezenet_v1.1.deploy.prototxt", "1x3x224x224");
        var four = Analyze("squeezenet_v1.1.deploy.prototxt", "4x3x224x224");
        Assert.AreEqual(4 * one.Totals.Macc, four.Totals.Macc);
        Assert.AreEqual(one.Totals.Params, four.Totals.Params);
    }
}
