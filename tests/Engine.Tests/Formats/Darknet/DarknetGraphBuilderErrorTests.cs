using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

/// <summary>
/// Bad cfgs: each one is refused with its documented code, at the line and column of the value or
/// section at fault, with a message that says what is wrong. Columns are counted by hand from the
/// cfg text in each test.
/// </summary>
[TestClass]
public sealed class DarknetGraphBuilderErrorTests
{
    private const string Net = """
        [net]
        width=32
        height=32
        channels=3

        """;

    private static NeuralException Refused(DiagnosticDescriptor code, string cfg) =>
        DiagnosticAssert.Throws(code, () => DarknetCfg.Read(cfg));

    [TestMethod]
    public void An_unknown_section_is_refused_at_its_header()
    {
        const string cfg = Net + """
            [convolutional]
            filters=8

              [convolutinal]
            filters=8
            """;

        var error = Refused(DiagnosticCodes.CfgUnknownSection, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "[convolutinal]"), 3);
        Assert.Contains("[convolutinal]", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("size=3x", 6)]
    [DataRow("size = 3x", 8)]
    [DataRow("size=three", 6)]
    [DataRow("size=", 6)]
    public void A_non_numeric_option_is_refused_at_its_value(string line, int column)
    {
        var cfg = Net + "[convolutional]\nfilters=8\n" + line + "\n";

        var error = Refused(DiagnosticCodes.CfgNotNumeric, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, line), column);
        Assert.Contains("[convolutional] size=", error.Diagnostic.Message);
        Assert.Contains("not an integer", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_non_numeric_entry_of_a_layer_list_is_refused()
    {
        const string cfg = Net + """
            [convolutional]
            filters=8

            [route]
            layers=-1,x
            """;

        var error = Refused(DiagnosticCodes.CfgNotNumeric, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "layers=-1,x"), 8);
        Assert.Contains("layers=-1,x", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_non_numeric_net_size_is_refused_at_its_value()
    {
        const string cfg = "[net]\nwidth=416px\nheight=416\nchannels=3\n[convolutional]\nfilters=8\n";

        DiagnosticAssert.At(Refused(DiagnosticCodes.CfgNotNumeric, cfg), 2, 7);
    }

    [TestMethod]
    public void A_cfg_whose_first_section_is_not_net_is_refused_at_that_section()
    {
        const string cfg = "# a model\n\n[convolutional]\nfilters=8\n";

        var error = Refused(DiagnosticCodes.CfgMissingNet, cfg);

        DiagnosticAssert.At(error, 3, 1);
        Assert.Contains("[net]", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_second_net_section_is_malformed()
    {
        const string cfg = Net + "[convolutional]\nfilters=8\n[net]\nwidth=8\n";

        DiagnosticAssert.At(Refused(DiagnosticCodes.CfgSyntax, cfg), DarknetCfg.LineOf(cfg, "[net]", 2), 1);
    }

    [TestMethod]
    public void A_net_without_layers_is_refused()
    {
        DiagnosticAssert.At(Refused(DiagnosticCodes.CfgNoLayers, Net), 1, 1);
    }

    [TestMethod]
    [DataRow("filters=0", 9, "filters=0 must be a positive integer")]
    [DataRow("size=-1", 6, "size=-1 must be a positive integer")]
    [DataRow("stride=0", 8, "stride=0 must be a positive integer")]
    [DataRow("padding=-2", 9, "padding=-2 must not be negative")]
    public void A_zero_or_negative_conv_size_is_refused_at_its_value(string line, int column, string message)
    {
        var cfg = Net + "[convolutional]\n" + line + "\n";

        var error = Refused(DiagnosticCodes.CfgInvalidValue, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, line), column);
        Assert.Contains(message, error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("width=0", "height=32", "channels=3", 2, 7)]
    [DataRow("width=32", "height=0", "channels=3", 3, 8)]
    [DataRow("width=32", "height=32", "channels=0", 4, 10)]
    [DataRow("width=32", "height=-4", "channels=3", 3, 8)]
    public void A_zero_or_negative_input_size_is_refused_at_its_value(string width, string height, string channels, int line, int column)
    {
        var cfg = $"[net]\n{width}\n{height}\n{channels}\n[convolutional]\nfilters=8\n";

        var error = Refused(DiagnosticCodes.CfgInvalidValue, cfg);

        DiagnosticAssert.At(error, line, column);
    }

    [TestMethod]
    public void A_net_without_any_size_is_refused_at_net()
    {
        const string cfg = "[net]\nbatch=1\n[convolutional]\nfilters=8\n";

        var error = Refused(DiagnosticCodes.CfgInvalidValue, cfg);

        DiagnosticAssert.At(error, 1, 1);
        Assert.Contains("width=0, height=0, channels=0", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_layer_that_shrinks_the_image_to_nothing_is_an_empty_shape()
    {
        // 4x4 input, 7x7 kernel, no padding: (4 - 7)/1 + 1 = -2.
        const string cfg = "[net]\nwidth=4\nheight=4\nchannels=3\n\n[convolutional]\nfilters=8\nsize=7\n";

        var error = Refused(DiagnosticCodes.ShapeNotPositive, cfg);

        DiagnosticAssert.At(error, 6, 1);
        Assert.Contains("1x8x-2x-2", error.Diagnostic.Message);
    }

    // Layers are numbered from 0 after [net]; a negative reference counts back from the current layer.
    private const string TwoLayersThen = Net + """
        [convolutional]
        filters=8

        [convolutional]
        filters=8

        """;

    [TestMethod]
    [DataRow("[route]", "layers=-5", 8, "refers to layer -3")] // layer 2 - 5
    [DataRow("[route]", "layers=-1,-3", 8, "refers to layer -1")] // the second entry, 2 - 3
    [DataRow("[route]", "layers=2", 8, "refers to layer 2")] // itself
    [DataRow("[route]", "layers=7", 8, "refers to layer 7")] // forward
    [DataRow("[shortcut]", "from=-4", 6, "refers to layer -2")]
    [DataRow("[shortcut]", "from=3", 6, "refers to layer 3")]
    public void A_reference_to_a_layer_that_does_not_come_before_is_refused_at_its_value(string section, string line, int column, string target)
    {
        var cfg = TwoLayersThen + section + "\n" + line + "\n";

        var error = Refused(DiagnosticCodes.CfgBadLayerReference, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, line), column);
        Assert.Contains($"layer 2 {section} {line} {target}", error.Diagnostic.Message);
        Assert.Contains("only layers 0..1 come before it", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_yolo_head_whose_filters_do_not_match_classes_and_mask_is_refused()
    {
        // 3 anchors in the mask x (80 classes + 5) = 255 channels needed; the conv gives 16.
        const string cfg = Net + """
            [convolutional]
            filters=16
            size=1

            [yolo]
            mask=0,1,2
            anchors=10,13, 16,30, 33,23, 30,61
            classes=80
            num=4
            """;

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "[yolo]"), 1);
        Assert.Contains("3 anchors x (80 classes + 5) = 255", error.Diagnostic.Message);
        Assert.Contains("1x16x32x32", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_yolo_mask_beyond_the_anchors_is_refused_at_the_mask()
    {
        const string cfg = Net + """
            [convolutional]
            filters=255
            size=1

            [yolo]
            mask=3,4,5
            anchors=10,13, 16,30, 33,23
            classes=80
            num=3
            """;

        var error = Refused(DiagnosticCodes.CfgInvalidValue, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "mask=3,4,5"), 6);
    }

    [TestMethod]
    [DataRow("rnn")]
    [DataRow("gru")]
    [DataRow("lstm")]
    [DataRow("crnn")]
    [DataRow("conv_lstm")]
    [DataRow("history")]
    public void A_recurrent_layer_is_refused_at_its_header(string kind)
    {
        var cfg = Net + "[convolutional]\nfilters=8\n\n[" + kind + "]\noutput=8\n";

        var error = Refused(DiagnosticCodes.CfgUnsupportedLayer, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, $"[{kind}]"), 1);
        Assert.Contains($"layer 1 [{kind}] is recurrent", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("[convolutional]\nfilters=8\nactivation=leeky\n", "activation=leeky", 12)]
    [DataRow("[convolutional]\nfilters=8\n[shortcut]\nfrom=-1\nactivation=relu7\n", "activation=relu7", 12)]
    [DataRow("[activation]\nactivation = Mish\n", "activation = Mish", 14)]
    public void An_unknown_activation_is_refused_at_its_value(string layers, string line, int column)
    {
        var cfg = Net + layers;

        var error = Refused(DiagnosticCodes.CfgInvalidValue, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, line), column);
        Assert.Contains("is not a Darknet activation", error.Diagnostic.Message);
        Assert.Contains("leaky", error.Diagnostic.Message); // lists the known ones
    }

    [TestMethod]
    public void Conv_groups_that_do_not_divide_the_channels_are_refused_at_the_groups_value()
    {
        const string cfg = Net + "[convolutional]\nfilters=8\nsize=3\ngroups=2\n";

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "groups=2"), 8);
        Assert.Contains("groups=2 does not divide the 3 input channels", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_route_of_layers_with_different_sizes_is_refused()
    {
        const string cfg = Net + """
            [convolutional]
            filters=8

            [maxpool]
            size=2
            stride=2

            [route]
            layers=-1,-2
            """;

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "[route]"), 1);
        Assert.Contains("32x32", error.Diagnostic.Message);
        Assert.Contains("16x16", error.Diagnostic.Message);
    }

    [TestMethod]
    public void Conv_groups_that_do_not_divide_the_filters_are_refused_at_the_groups_value()
    {
        // 3 input channels split in 3 groups of 1, but 8 filters cannot split into 3 equal groups.
        const string cfg = Net + "[convolutional]\nfilters=8\nsize=3\ngroups=3\n";

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "groups=3"), 8);
        Assert.Contains("groups=3 does not divide filters=8", error.Diagnostic.Message);
    }

    [TestMethod]
    public void Route_groups_that_do_not_divide_an_inputs_channels_are_refused_at_the_groups_value()
    {
        const string cfg = Net + """
            [convolutional]
            filters=6
            size=1

            [route]
            layers=-1
            groups=4
            group_id=1
            """;

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "groups=4"), 8);
        Assert.Contains("groups=4 does not divide the 6 channels of 1x6x32x32", error.Diagnostic.Message);
    }

    private const string ConvThenMaxpool = Net + """
        [convolutional]
        filters=8
        size=3
        pad=1

        [maxpool]
        size=2
        stride=2

        """;

    [TestMethod]
    public void A_share_index_naming_a_layer_without_conv_weights_is_refused_at_the_value()
    {
        // Darknet would copy the maxpool's null weight pointers into the conv.
        const string cfg = ConvThenMaxpool + "[convolutional]\nfilters=8\nsize=3\npad=1\nshare_index=1\n";

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "share_index=1"), 13);
        Assert.Contains("shares the weights of layer 1 [maxpool], which has no convolution weights; this layer needs 8x8x3x3", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("filters=8\nsize=1", "8x8x1x1")] // another kernel
    [DataRow("filters=4\nsize=3", "4x8x3x3")] // other filters
    public void A_share_index_naming_weights_of_another_shape_is_refused_at_the_value(string options, string needed)
    {
        // Layer 0 holds 8 filters x 3 channels x 3 x 3; layer 2 reads 8 channels.
        var cfg = ConvThenMaxpool + "[convolutional]\n" + options + "\nshare_index=0\n";

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "share_index=0"), 13);
        Assert.Contains($"which holds 8x3x3x3; this layer needs {needed}", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_batch_normalized_conv_cannot_share_a_layer_without_statistics()
    {
        const string cfg = Net + """
            [convolutional]
            filters=3
            size=1

            [convolutional]
            batch_normalize=1
            filters=3
            size=1
            share_index=-1
            """;

        var error = Refused(DiagnosticCodes.ShapeMismatch, cfg);

        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, "share_index=-1"), 13);
        Assert.Contains("needs 3x3x1x1 and batch-normalization statistics", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_share_of_a_layer_that_shares_in_turn_reaches_the_stored_weights()
    {
        // Darknet copies pointers, so layer 2 ends up with layer 0's tensors through layer 1.
        const string cfg = Net + """
            [convolutional]
            batch_normalize=1
            filters=3
            size=1

            [convolutional]
            batch_normalize=1
            filters=3
            size=1
            share_index=0

            [convolutional]
            batch_normalize=1
            filters=3
            size=1
            share_index=1
            """;

        var model = DarknetCfg.Read(cfg);

        var conv = model.Graph.Nodes.Single(n => n.Name == "layer2/conv");
        var bn = model.Graph.Nodes.Single(n => n.Name == "layer2/bn");
        CollectionAssert.AreEqual(new[] { "layer1/act", "layer0/weights" }, conv.Inputs);
        CollectionAssert.AreEqual(new[] { "layer2/conv", "layer0/scales", "layer0/biases", "layer0/rolling_mean", "layer0/rolling_variance" }, bn.Inputs);
        Assert.IsEmpty(((NeuralBuild.Engine.Formats.Darknet.DarknetModel)model.SourceDocument!).Layers[2].StoredTensors);
    }
}
