using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

/// <summary>
/// Every integer option the reader uses, each written with values no model needs (0, negative,
/// above 2^20, int and long extremes, beyond 64 bits): refused as NM0014 at the value, with the
/// rule it breaks. Each cfg is a 32x32x3 [net], a 1x1 conv to 8 channels, then the layer under
/// test with the option as its last line, so the value sits at column key.Length + 2.
/// </summary>
[TestClass]
public sealed class DarknetOptionRangeTests
{
    private const string Prefix = """
        [net]
        width=32
        height=32
        channels=3

        [convolutional]
        filters=8
        size=1

        """;

    private enum Rule
    {
        Positive,
        NonNegative,

        /// <summary>[upsample] stride: either sign, not 0.</summary>
        Signed,

        /// <summary>Conv stride_x / stride_y: below 1 means "use stride" in darknet.</summary>
        BelowOneMeansDefault,
    }

    private static readonly (string Section, string Key, Rule Rule)[] s_options =
    [
        ("[convolutional]", "filters", Rule.Positive),
        ("[convolutional]", "size", Rule.Positive),
        ("[convolutional]", "stride", Rule.Positive),
        ("[convolutional]", "stride_x", Rule.BelowOneMeansDefault),
        ("[convolutional]", "stride_y", Rule.BelowOneMeansDefault),
        ("[convolutional]\nsize=3", "dilation", Rule.Positive),
        ("[convolutional]", "groups", Rule.Positive),
        ("[convolutional]", "padding", Rule.NonNegative),
        ("[deconvolutional]", "filters", Rule.Positive),
        ("[deconvolutional]", "size", Rule.Positive),
        ("[deconvolutional]", "stride", Rule.Positive),
        ("[deconvolutional]", "padding", Rule.NonNegative),
        ("[connected]", "output", Rule.Positive),
        ("[local]", "filters", Rule.Positive),
        ("[local]", "size", Rule.Positive),
        ("[local]", "stride", Rule.Positive),
        ("[maxpool]", "size", Rule.Positive),
        ("[maxpool]", "stride", Rule.Positive),
        ("[maxpool]", "stride_x", Rule.Positive),
        ("[maxpool]", "stride_y", Rule.Positive),
        ("[maxpool]", "padding", Rule.NonNegative),
        ("[maxpool]\nmaxpool_depth=1", "out_channels", Rule.Positive),
        ("[local_avgpool]", "size", Rule.Positive),
        ("[reorg]", "stride", Rule.Positive),
        ("[reorg]", "extra", Rule.NonNegative),
        ("[upsample]", "stride", Rule.Signed),
        ("[softmax]", "groups", Rule.Positive),
        ("[normalization]", "size", Rule.Positive),
        ("[crop]", "crop_height", Rule.Positive),
        ("[crop]", "crop_width", Rule.Positive),
        ("[region]", "num", Rule.Positive),
        ("[region]", "classes", Rule.NonNegative),
        ("[region]", "coords", Rule.Positive),
        ("[detection]", "num", Rule.Positive),
        ("[detection]", "classes", Rule.NonNegative),
        ("[detection]", "coords", Rule.Positive),
        ("[detection]", "side", Rule.Positive),
        ("[yolo]", "num", Rule.Positive),
        ("[yolo]", "classes", Rule.NonNegative),
        ("[Gaussian_yolo]", "classes", Rule.NonNegative),
        ("[route]\nlayers=-1", "groups", Rule.Positive),
        ("[route]\nlayers=-1\ngroups=2", "group_id", Rule.NonNegative),
    ];

    // 2^20 + 1, int.MaxValue, long.MaxValue.
    private static readonly string[] s_tooLarge = ["1048577", "2147483647", "9223372036854775807"];

    public static IEnumerable<object[]> TooLarge =>
        from option in s_options
        from value in s_tooLarge
        select new object[] { option.Section, option.Key, value };

    public static IEnumerable<object[]> NotPositive =>
        from option in s_options.Where(o => o.Rule == Rule.Positive)
        from value in new[] { "0", "-1", "-9223372036854775808" }
        select new object[] { option.Section, option.Key, value };

    public static IEnumerable<object[]> Negative =>
        from option in s_options.Where(o => o.Rule == Rule.NonNegative)
        from value in new[] { "-1", "-2147483648", "-9223372036854775808" }
        select new object[] { option.Section, option.Key, value };

    public static IEnumerable<object[]> Options => s_options.Select(o => new object[] { o.Section, o.Key });

    private static string Cfg(string section, string key, string value) => $"{Prefix}{section}\n{key}={value}\n";

    private static NeuralException RefusedAtValue(string cfg, string key, string value)
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.CfgInvalidValue, () => DarknetCfg.Read(cfg));
        DiagnosticAssert.At(error, DarknetCfg.LineOf(cfg, $"{key}={value}"), key.Length + 2);
        return error;
    }

    private static string TypeOf(string section) => section[..(section.IndexOf(']', StringComparison.Ordinal) + 1)];

    [TestMethod]
    [DynamicData(nameof(TooLarge))]
    public void A_value_above_2_to_the_20_is_refused_at_the_value(string section, string key, string value)
    {
        var error = RefusedAtValue(Cfg(section, key, value), key, value);

        Assert.Contains($"{TypeOf(section)} {key}={value} is too large: at most 1,048,576 (2^20)", error.Diagnostic.Message);
    }

    [TestMethod]
    [DynamicData(nameof(NotPositive))]
    public void A_zero_or_negative_size_is_refused_at_the_value(string section, string key, string value)
    {
        var error = RefusedAtValue(Cfg(section, key, value), key, value);

        Assert.Contains($"{TypeOf(section)} {key}={value} must be a positive integer", error.Diagnostic.Message);
    }

    [TestMethod]
    [DynamicData(nameof(Negative))]
    public void A_negative_padding_or_count_is_refused_at_the_value(string section, string key, string value)
    {
        var error = RefusedAtValue(Cfg(section, key, value), key, value);

        Assert.Contains($"{TypeOf(section)} {key}={value} must not be negative", error.Diagnostic.Message);
    }

    [TestMethod]
    [DynamicData(nameof(Options))]
    public void A_number_beyond_64_bits_is_out_of_range_not_malformed(string section, string key)
    {
        const string value = "99999999999999999999"; // 10^20 > 2^63 - 1 = 9.22 x 10^18
        var error = RefusedAtValue(Cfg(section, key, value), key, value);

        Assert.Contains($"{key}={value}: {value} does not fit a 64-bit integer", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("width", "height=32\nchannels=3")]
    [DataRow("height", "width=32\nchannels=3")]
    [DataRow("channels", "width=32\nheight=32")]
    public void A_net_size_above_2_to_the_20_is_refused_at_the_value(string key, string others)
    {
        var cfg = $"[net]\n{others}\n{key}=1048577\n[convolutional]\nfilters=8\n";

        var error = RefusedAtValue(cfg, key, "1048577");

        Assert.Contains($"[net] {key}=1048577 is too large", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_net_inputs_count_above_the_element_limit_is_refused_at_the_value()
    {
        // inputs= gives a 1-D input of that many elements; one tensor holds at most 2^31 - 1.
        const string cfg = "[net]\ninputs=2147483648\n[connected]\noutput=8\n";

        var error = RefusedAtValue(cfg, "inputs", "2147483648");

        Assert.Contains("must lie between 0 and 2,147,483,647", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("-1048577")]
    [DataRow("-9223372036854775808")]
    public void An_upsample_shrinking_by_more_than_2_to_the_20_is_refused(string value)
    {
        var error = RefusedAtValue(Cfg("[upsample]", "stride", value), "stride", value);

        Assert.Contains("must lie between -1048576 and 1,048,576", error.Diagnostic.Message);
    }

    [TestMethod]
    public void An_upsample_stride_of_0_is_refused_at_the_value()
    {
        var error = RefusedAtValue(Cfg("[upsample]", "stride", "0"), "stride", "0");

        Assert.Contains("[upsample] stride=0 must not be 0", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_group_id_not_below_groups_is_refused_at_the_value()
    {
        var error = RefusedAtValue(Cfg("[route]\nlayers=-1\ngroups=2", "group_id", "2"), "group_id", "2");

        Assert.Contains("group_id=2 must be less than groups=2", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("0", 1)] // darknet: stride_x below 1 means "as stride"; (32 - 1)/1 + 1 = 32
    [DataRow("-7", 1)]
    [DataRow("2", 2)] // (32 - 1)/2 + 1 = 16
    [DataRow("1048576", 1048576)] // the limit itself: (32 - 1)/1048576 + 1 = 1
    public void Conv_stride_x_below_1_falls_back_to_stride_as_in_darknet(string value, long expectedStrideX)
    {
        var model = DarknetCfg.Read(Cfg("[convolutional]\nfilters=4", "stride_x", value));

        var conv = model.Graph.Nodes.Single(n => n.Name == "layer1/conv");
        CollectionAssert.AreEqual(new long[] { 1, expectedStrideX }, conv.Attributes.Ints("strides"));
        Assert.AreEqual($"1x4x32x{((32 - 1) / expectedStrideX) + 1}", OutputOf(model, 1));
    }

    [TestMethod]
    public void A_stride_at_the_limit_is_accepted_as_darknet_accepts_it()
    {
        // Darknet: out = (32 + 2*1 - 3)/1048576 + 1 = 1.
        var model = DarknetCfg.Read(Cfg("[convolutional]\nfilters=4\nsize=3\npad=1", "stride", "1048576"));

        Assert.AreEqual("1x4x1x1", OutputOf(model, 1));
    }

    [TestMethod]
    public void A_pooling_window_of_more_than_2_to_the_31_elements_is_refused_at_its_size()
    {
        // 46341^2 = 2,147,488,281 > 2^31 - 1 = 2,147,483,647 >= 46340^2 = 2,147,395,600.
        var error = RefusedAtValue(Cfg("[maxpool]", "size", "46341"), "size", "46341");

        Assert.Contains("46341x46341 window covers more than 2,147,483,647", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_pooling_window_just_within_2_to_the_31_elements_is_accepted()
    {
        // Darknet pads a maxpool by size - 1 = 46339: out = (32 + 46339 - 46340)/1 + 1 = 32.
        var model = DarknetCfg.Read(Cfg("[maxpool]", "size", "46340"));

        Assert.AreEqual("1x8x32x32", OutputOf(model, 1));
    }

    /// <summary>The output shape of darknet layer <paramref name="index"/> as the reader inferred it.</summary>
    private static string OutputOf(NeuralBuild.Engine.Ir.Model model, int index) =>
        ((DarknetModel)model.SourceDocument!).Layers[index].OutputShape.ToString();
}
