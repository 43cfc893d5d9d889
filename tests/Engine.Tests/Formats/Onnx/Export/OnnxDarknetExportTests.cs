using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// Small hand-made Darknet models, one per lowering that Darknet needs, exported, checked by
/// onnx.checker and run in ONNX Runtime against the reference executor on the same IR.
/// </summary>
[TestClass]
public sealed class OnnxDarknetExportTests
{
    private static string Cfg(int width, int height, int channels, string layers) =>
        $"[net]\nwidth={width}\nheight={height}\nchannels={channels}\n\n" + layers;

    private static string Conv(int filters, int size = 3, int stride = 1, string activation = "leaky", bool batchNormalize = false) =>
        $"[convolutional]\n{(batchNormalize ? "batch_normalize=1\n" : string.Empty)}filters={filters}\nsize={size}\nstride={stride}\npad=1\nactivation={activation}\n\n";

    private static OnnxExportResult Check(string cfg, bool fold = true, OnnxExportOptions? options = null, float low = -4, float high = 4)
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Darknet(temp.Path, cfg);
        if (fold)
        {
            OnnxRuntimeComparison.Folded(model);
        }

        return OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, options, low: low, high: high);
    }

    [TestMethod]
    [DataRow("linear")]
    [DataRow("relu")]
    [DataRow("leaky")]
    [DataRow("relu6")]
    [DataRow("ramp")]
    [DataRow("relie")]
    [DataRow("stair")]
    [DataRow("hardtan")]
    [DataRow("lhtan")]
    [DataRow("plse")]
    [DataRow("logistic")]
    [DataRow("loggy")]
    [DataRow("tanh")]
    [DataRow("elu")]
    [DataRow("selu")]
    [DataRow("gelu")]
    [DataRow("swish")]
    [DataRow("mish")]
    [DataRow("hard_mish")]
    public void Every_darknet_activation_matches(string activation)
    {
        var result = Check(Cfg(9, 7, 3, Conv(6, activation: activation)), fold: false, low: -6, high: 6);
        Assert.IsTrue(result.Layers.Single().OnnxNodes.Any(n => n.OpType == "Conv"), "the conv of the layer is exported");
    }

    [TestMethod]
    public void Batch_normalised_conv_matches_folded_and_unfolded()
    {
        var cfg = Cfg(8, 8, 3, Conv(8, batchNormalize: true) + Conv(4, size: 1, activation: "mish", batchNormalize: true));
        var folded = Check(cfg, fold: true);
        var unfolded = Check(cfg, fold: false);
        Assert.IsFalse(folded.Layers.SelectMany(l => l.OnnxNodes).Any(n => n.OpType == "Div"), "folded: no normalisation left");
        Assert.IsTrue(unfolded.Layers.SelectMany(l => l.OnnxNodes).Any(n => n.OpType == "Div"), "unfolded: the BatchNorm is written out");
    }

    [TestMethod]
    [DataRow(2, 1, 13)] // yolov3-tiny's stride-1 pool: darknet pads size-1 = 1, all at the end
    [DataRow(2, 2, 13)] // odd input: the last window hangs over the edge
    [DataRow(3, 2, 13)]
    [DataRow(5, 1, 10)] // SPP pools
    [DataRow(9, 1, 10)]
    [DataRow(13, 1, 10)]
    public void Maxpool_with_darknet_padding_matches(int size, int stride, int input)
    {
        Check(Cfg(input, input, 2, $"[maxpool]\nsize={size}\nstride={stride}\n\n"));
    }

    [TestMethod]
    public void Spp_block_matches()
    {
        var spp = Conv(4, size: 1) + "[maxpool]\nstride=1\nsize=5\n\n[route]\nlayers=-2\n\n[maxpool]\nstride=1\nsize=9\n\n[route]\nlayers=-4\n\n[maxpool]\nstride=1\nsize=13\n\n[route]\nlayers=-1,-3,-5,-6\n\n";
        Check(Cfg(10, 10, 3, spp));
    }

    [TestMethod]
    public void Route_groups_take_the_channel_slice()
    {
        Check(Cfg(8, 8, 3, Conv(8) + "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n\n" + Conv(4) + "[route]\nlayers=-1,-3\n\n"));
    }

    [TestMethod]
    public void Shortcut_of_equal_shapes_matches()
    {
        Check(Cfg(8, 8, 3, Conv(4) + Conv(4) + "[shortcut]\nfrom=-2\nactivation=linear\n\n"));
    }

    [TestMethod]
    public void Shortcut_with_mismatched_channels_and_sizes_matches_pjreddie()
    {
        // from: 8 channels at 8x8; to: 4 channels at 4x4 (stride 2), and 6 channels at 8x8 from 4x4 (sample 2).
        var layers = Conv(8) + Conv(4, stride: 2) + "[shortcut]\nfrom=-2\nactivation=linear\n\n" + "[upsample]\nstride=2\n\n" + Conv(6, size: 1) + "[shortcut]\nfrom=-3\nactivation=linear\n\n";
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Darknet(temp.Path, Cfg(8, 8, 3, layers), dialect: DarknetDialect.Pjreddie);
        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path);
    }

    [TestMethod]
    public void Shortcut_with_mismatched_sizes_matches_alexeyab_flat_rule()
    {
        var layers = Conv(8) + Conv(4, stride: 2) + "[shortcut]\nfrom=-2\nactivation=linear\n\n";
        Check(Cfg(8, 8, 3, layers));
    }

    [TestMethod]
    [DataRow("per_feature", "none")]
    [DataRow("per_feature", "relu")]
    [DataRow("per_channel", "softmax")]
    public void Weighted_shortcut_matches(string weightsType, string normalization)
    {
        var layers = Conv(4) + Conv(4) + Conv(4) + $"[shortcut]\nfrom=-2,-3\nweights_type={weightsType}\nweights_normalization={normalization}\nactivation=linear\n\n";
        Check(Cfg(6, 6, 3, layers));
    }

    [TestMethod]
    [DataRow(2, 1.0)]
    [DataRow(3, 0.5)]
    [DataRow(-2, 1.0)]
    [DataRow(-2, 0.25)]
    public void Upsample_matches(int stride, double scale)
    {
        Check(Cfg(8, 8, 3, Conv(4) + $"[upsample]\nstride={stride}\nscale={scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n\n"));
    }

    [TestMethod]
    [DataRow("[reorg]\nstride=2\n")]
    [DataRow("[reorg]\nstride=2\nreverse=1\n")]
    [DataRow("[reorg3d]\nstride=2\n")]
    [DataRow("[reorg3d]\nstride=2\nreverse=1\n")]
    public void Reorg_in_darknet_order_matches(string reorg)
    {
        // 32 channels: [reorg3d] reverse=1 runs over its output grid (8 channels), which must still split into 2x2 blocks.
        Check(Cfg(8, 8, 3, Conv(32) + reorg + "\n"));
    }

    [TestMethod]
    public void Softmax_with_groups_and_temperature_matches()
    {
        Check(Cfg(4, 4, 3, Conv(6) + "[softmax]\ngroups=3\ntemperature=2\n\n"));
    }

    [TestMethod]
    public void Avgpool_connected_dropout_and_softmax_match()
    {
        var layers = Conv(8) + "[avgpool]\n\n[dropout]\nprobability=.5\n\n[connected]\noutput=5\nactivation=leaky\n\n[softmax]\n\n";
        Check(Cfg(6, 6, 3, layers));
    }

    [TestMethod]
    public void Yolo_heads_activate_as_darknet_does()
    {
        // 2 anchors x (3 classes + 5) = 16 filters; scale_x_y moves x and y.
        var yolo = "[yolo]\nmask=0,1\nanchors=10,14, 23,27, 37,58\nclasses=3\nnum=3\nscale_x_y=1.05\n\n";
        Check(Cfg(8, 8, 3, Conv(16, size: 1, activation: "linear") + yolo), low: -3, high: 3);
    }

    [TestMethod]
    public void Gaussian_yolo_head_matches()
    {
        var head = "[Gaussian_yolo]\nmask=0,1\nanchors=10,14, 23,27, 37,58\nclasses=2\nnum=3\nscale_x_y=1.1\n\n";
        Check(Cfg(6, 6, 3, Conv(22, size: 1, activation: "linear") + head));
    }

    [TestMethod]
    [DataRow(DarknetDialect.Pjreddie, 1)]
    [DataRow(DarknetDialect.Pjreddie, 0)]
    [DataRow(DarknetDialect.AlexeyAB, 1)]
    public void Region_head_matches_in_each_layout(DarknetDialect dialect, int softmax)
    {
        // 2 anchors x (4 coords + 3 classes + 1) = 16 filters.
        var region = $"[region]\nanchors=1,1, 2,2\nnum=2\nclasses=3\ncoords=4\nsoftmax={softmax}\n\n";
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Darknet(temp.Path, Cfg(5, 5, 3, Conv(16, size: 1, activation: "linear") + region), dialect: dialect);
        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, low: -3, high: 3);
    }

    [TestMethod]
    public void Sam_and_a_new_coords_head_with_scale_x_y_match()
    {
        var layers = Conv(16, activation: "mish") + Conv(16, size: 1, activation: "logistic") + "[sam]\nfrom=-2\n\n"
            + Conv(16, size: 1, activation: "logistic")
            + "[yolo]\nmask=0,1\nanchors=10,14, 23,27, 37,58\nclasses=3\nnum=3\nnew_coords=1\nscale_x_y=2.0\n\n";
        Check(Cfg(8, 8, 3, layers));
    }

    [TestMethod]
    public void Scale_channels_matches()
    {
        var layers = Conv(8) + "[avgpool]\n\n" + Conv(8, size: 1, activation: "logistic") + "[scale_channels]\nfrom=-3\n\n";
        Check(Cfg(6, 6, 3, layers));
    }

    [TestMethod]
    [DataRow(2, 1)]
    [DataRow(4, 2)]
    public void Maxpool_depth_and_local_avgpool_match(int size, int stride)
    {
        var layers = Conv(8) + $"[maxpool]\nmaxpool_depth=1\nout_channels=2\n\n" + Conv(4) + $"[local_avgpool]\nsize={size}\nstride={stride}\n\n";
        Check(Cfg(9, 9, 3, layers));
    }

    [TestMethod]
    public void Darknet_normalization_layer_matches_its_running_window()
    {
        // 9 channels: the window of size 5 passes channel 2 (never added) and goes on subtracting it.
        Check(Cfg(5, 5, 3, Conv(9) + "[normalization]\nalpha=0.01\nbeta=0.75\nkappa=1\nsize=5\n\n"));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    public void Crop_matches(int noAdjust)
    {
        Check(Cfg(10, 9, 3, $"[crop]\ncrop_height=6\ncrop_width=7\nnoadjust={noAdjust}\n\n" + Conv(4)));
    }

    [TestMethod]
    public void Detection_layer_softmax_matches()
    {
        // side 2, 2 boxes, 3 classes: 2*2*(3 + 2*5) = 52 values.
        var layers = Conv(8) + "[connected]\noutput=52\nactivation=linear\n\n[detection]\nclasses=3\ncoords=4\nrescore=1\nside=2\nnum=2\nsoftmax=1\nsqrt=1\n\n";
        Check(Cfg(4, 4, 3, layers));
    }

    [TestMethod]
    public void Xnor_convolution_matches_darknets_binary_forward()
    {
        var layers = Conv(8) + "[convolutional]\nbatch_normalize=1\nxnor=1\nfilters=6\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
            + "[convolutional]\nxnor=1\nfilters=4\nsize=1\nstride=1\npad=1\nactivation=linear\n\n";
        Check(Cfg(7, 7, 3, layers));
    }

    [TestMethod]
    public void Locally_connected_layer_is_refused_with_a_code_naming_the_layer()
    {
        using var temp = new TempDirectory();
        var cfg = Cfg(6, 6, 3, Conv(4) + "[local]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n");
        var model = OnnxRuntimeComparison.Darknet(temp.Path, cfg);
        var path = Path.Combine(temp.Path, "refused.onnx");
        var result = OnnxExporter.Export(model, path, new OnnxExportOptions());
        Assert.IsFalse(result.Succeeded);
        var refusal = result.Refusals.Single();
        Assert.AreEqual(DiagnosticCodes.ExportLocallyConnected, refusal.Diagnostic.Descriptor);
        Assert.AreEqual(1, refusal.Origin.Index);
        Assert.AreEqual(DarknetCfg.LineOf(cfg, "[local]"), refusal.Diagnostic.Location.Line);
        Assert.IsFalse(File.Exists(path), "nothing is written when a layer is refused");
        DiagnosticAssert.Throws(DiagnosticCodes.ExportRefused, result.ThrowIfRefused);
    }
}
