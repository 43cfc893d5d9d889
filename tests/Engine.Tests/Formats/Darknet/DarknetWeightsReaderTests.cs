using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

/// <summary>
/// The .weights layout: header width, where each tensor starts, what each layer kind stores, and
/// the errors for files that do not fit the cfg. Files are written here byte by byte with values
/// 0, 1, 2, … so a tensor read from the wrong place shows; where darknet can read the same file,
/// its own loader (via <c>darknet partial</c>) is the reference.
/// </summary>
[TestClass]
public sealed class DarknetWeightsReaderTests
{
    /// <summary>A conv with BN then a connected layer: the two stored layouts every classifier uses.</summary>
    private const string ConvBnConnected = """
        [net]
        width=4
        height=4
        channels=2

        [convolutional]
        batch_normalize=1
        filters=3
        size=1
        stride=1
        activation=leaky

        [connected]
        output=2
        activation=linear
        """;

    // Layout of ConvBnConnected, by hand. Darknet's order for a BN conv is biases, scales,
    // rolling_mean, rolling_variance, weights; for a connected layer biases then weights.
    //   layer 0: biases 3, scales 3, mean 3, variance 3, weights 3 filters x 2 channels x 1 x 1 = 6  -> 18 floats
    //   layer 1: input 3 x 4 x 4 = 48, biases 2, weights 2 x 48 = 96                                  -> 98 floats
    private const int ConvBnConnectedFloats = 18 + 98;

    private static readonly (string Name, int FirstValue, int Count)[] s_convBnConnectedTensors =
    [
        ("layer0/biases", 0, 3),
        ("layer0/scales", 3, 3),
        ("layer0/rolling_mean", 6, 3),
        ("layer0/rolling_variance", 9, 3),
        ("layer0/weights", 12, 6),
        ("layer1/biases", 18, 2),
        ("layer1/weights", 20, 96),
    ];

    [TestMethod]
    public void An_exact_fit_file_attaches_every_initializer_at_its_offset_with_its_values()
    {
        using var temp = new TempDirectory();
        var weights = temp.Write("m.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 5, 42), WeightsFile.Counting(ConvBnConnectedFloats)));
        Assert.AreEqual(20 + (116 * 4), new FileInfo(weights).Length);

        var model = DarknetCfg.Read(ConvBnConnected, new ModelReadOptions { WeightsPath = weights });

        var darknet = (DarknetModel)model.SourceDocument!;
        CollectionAssert.AreEqual(s_convBnConnectedTensors.Select(t => t.Name).ToArray(), darknet.Layers.SelectMany(l => l.StoredTensors).ToArray());
        Assert.AreEqual(new DarknetWeightsHeader(0, 2, 5, 42), darknet.Header);
        foreach (var (name, first, count) in s_convBnConnectedTensors)
        {
            var data = model.Graph.Initializers[name].Data as FileSliceData;
            Assert.IsNotNull(data, name);
            Assert.AreEqual(weights, data.Path);
            Assert.AreEqual(20L + (first * 4L), data.Offset, name);
            Assert.AreEqual(count, data.ElementCount, name);
            CollectionAssert.AreEqual(Enumerable.Range(first, count).Select(i => (float)i).ToArray(), data.ToArray(), name);
        }

        Assert.AreEqual(new Shape(3, 2, 1, 1), model.Graph.Initializers["layer0/weights"].Shape);
        Assert.AreEqual(new Shape(2, 48), model.Graph.Initializers["layer1/weights"].Shape);
    }

    [TestMethod]
    [DataRow(0, 1, DarknetDialect.AlexeyAB, false)] // 0*10 + 1 = 1 < 2: 32-bit
    [DataRow(0, 2, DarknetDialect.AlexeyAB, true)]
    [DataRow(1, 0, DarknetDialect.AlexeyAB, true)] // 1*10 + 0 = 10
    [DataRow(0, 1000, DarknetDialect.AlexeyAB, true)] // AlexeyAB only asks major*10 + minor >= 2
    [DataRow(0, 1, DarknetDialect.Pjreddie, false)]
    [DataRow(0, 2, DarknetDialect.Pjreddie, true)]
    [DataRow(0, 999, DarknetDialect.Pjreddie, true)]
    [DataRow(0, 1000, DarknetDialect.Pjreddie, false)] // pjreddie also wants major and minor below 1000
    [DataRow(1000, 0, DarknetDialect.Pjreddie, false)]
    public void The_seen_counter_is_32_or_64_bits_by_version_and_the_tensors_follow_it(int major, int minor, DarknetDialect dialect, bool seen64)
    {
        // A seen value that needs more than 32 bits shows a 64-bit read; a 32-bit one its own value.
        var header = seen64 ? WeightsFile.Header64(major, minor, 0, 0x1_0000_0007UL) : WeightsFile.Header32(major, minor, 0, 123_456);
        using var temp = new TempDirectory();
        var weights = temp.Write("m.weights", WeightsFile.With(header, WeightsFile.Counting(ConvBnConnectedFloats)));

        var model = DarknetCfg.Read(ConvBnConnected, new ModelReadOptions { WeightsPath = weights, DarknetDialect = dialect });

        var read = ((DarknetModel)model.SourceDocument!).Header!;
        Assert.AreEqual(seen64, read.SeenIs64Bit);
        Assert.AreEqual(seen64 ? 20 : 16, read.ByteLength);
        Assert.AreEqual(seen64 ? 0x1_0000_0007UL : 123_456UL, read.Seen);
        var biases = (FileSliceData)model.Graph.Initializers["layer0/biases"].Data!;
        Assert.AreEqual(header.Length, biases.Offset);
        CollectionAssert.AreEqual(new float[] { 0, 1, 2 }, biases.ToArray());
        CollectionAssert.AreEqual(new float[] { 18, 19 }, model.Graph.Initializers["layer1/biases"].Data!.ToArray());
    }

    /// <summary>Every layer kind whose layout pjreddie's darknet shares with us, including [batchnorm].</summary>
    private const string PjreddieLayouts = """
        [net]
        width=4
        height=4
        channels=2

        [batchnorm]

        [convolutional]
        batch_normalize=1
        filters=3
        size=3
        pad=1
        activation=leaky

        [convolutional]
        filters=2
        size=1
        activation=linear

        [connected]
        output=3
        activation=linear
        """;

    // By hand, pjreddie dialect: [batchnorm] 3 x 2 channels = 6; BN conv 4 x 3 + 3 x 2 x 3 x 3 = 66;
    // plain conv 2 + 2 x 3 = 8; connected 3 + 3 x (2 x 4 x 4 = 32) = 99.
    private const int PjreddieLayoutsFloats = 6 + 66 + 8 + 99;

    [TestMethod]
    [DataRow(0, 1, false)]
    [DataRow(0, 2, true)]
    [DataRow(1, 0, true)]
    [DataRow(0, 999, true)]
    [DataRow(0, 1000, false)]
    [DataRow(1000, 0, false)]
    public void Darknet_finds_every_value_where_we_do(int major, int minor, bool seen64)
    {
        using var temp = new TempDirectory();
        var cfg = temp.WriteText("m.cfg", PjreddieLayouts);
        var header = seen64 ? WeightsFile.Header64(major, minor, 0, 5) : WeightsFile.Header32(major, minor, 0, 5);
        var weights = temp.Write("m.weights", WeightsFile.With(header, WeightsFile.Counting(PjreddieLayoutsFloats)));

        var model = ModelFormats.Read(cfg, new ModelReadOptions { WeightsPath = weights, DarknetDialect = DarknetDialect.Pjreddie });
        var ours = ((DarknetModel)model.SourceDocument!).Layers
            .SelectMany(l => l.StoredTensors)
            .SelectMany(name => model.Graph.Initializers[name].Data!.ToArray())
            .ToArray();

        // Darknet loads the file with its own reader and saves what it loaded after a 20-byte header.
        var resaved = DarknetOps.Resave(cfg, weights);
        Assert.HasCount(20 + (PjreddieLayoutsFloats * 4), resaved, "darknet stores a different number of floats for this cfg");
        CollectionAssert.AreEqual(WeightsFile.Floats(resaved.AsSpan(20)), ours);
    }

    private const string BatchnormThenConv = """
        [net]
        width=4
        height=4
        channels=2

        [batchnorm]

        [convolutional]
        filters=1
        size=1
        activation=linear
        """;

    [TestMethod]
    public void A_batchnorm_layer_stores_four_vectors_in_AlexeyAB_weights_and_three_in_pjreddie_weights()
    {
        // AlexeyAB: biases, scales, mean, variance (4 x 2 channels); pjreddie: scales, mean, variance (3 x 2).
        // The conv after it: 1 bias + 1 x 2 weights = 3 floats.
        using var temp = new TempDirectory();
        var alexeyAb = temp.Write("a.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 5, 0), WeightsFile.Counting(8 + 3)));
        var pjreddie = temp.Write("p.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 0, 0), WeightsFile.Counting(6 + 3)));

        var a = DarknetCfg.Read(BatchnormThenConv, new ModelReadOptions { WeightsPath = alexeyAb, DarknetDialect = DarknetDialect.AlexeyAB });
        CollectionAssert.AreEqual(new[] { "layer0/biases", "layer0/scales", "layer0/rolling_mean", "layer0/rolling_variance" }, ((DarknetModel)a.SourceDocument!).Layers[0].StoredTensors);
        CollectionAssert.AreEqual(new float[] { 0, 1 }, a.Graph.Initializers["layer0/biases"].Data!.ToArray());
        CollectionAssert.AreEqual(new float[] { 6, 7 }, a.Graph.Initializers["layer0/rolling_variance"].Data!.ToArray());
        CollectionAssert.AreEqual(new float[] { 9, 10 }, a.Graph.Initializers["layer1/weights"].Data!.ToArray());

        var p = DarknetCfg.Read(BatchnormThenConv, new ModelReadOptions { WeightsPath = pjreddie, DarknetDialect = DarknetDialect.Pjreddie });
        CollectionAssert.AreEqual(new[] { "layer0/scales", "layer0/rolling_mean", "layer0/rolling_variance" }, ((DarknetModel)p.SourceDocument!).Layers[0].StoredTensors);
        CollectionAssert.AreEqual(new float[] { 0, 1 }, p.Graph.Initializers["layer0/scales"].Data!.ToArray());
        CollectionAssert.AreEqual(new float[] { 7, 8 }, p.Graph.Initializers["layer1/weights"].Data!.ToArray());

        // Each file is the wrong size for the other dialect, by the 2 biases (8 bytes).
        var tooLong = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(BatchnormThenConv, new ModelReadOptions { WeightsPath = alexeyAb, DarknetDialect = DarknetDialect.Pjreddie }));
        Assert.AreEqual(DiagnosticCodes.WeightsOversized.Code, tooLong.Code);
        Assert.Contains("8 bytes are left", tooLong.Diagnostic.Message);
        var tooShort = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(BatchnormThenConv, new ModelReadOptions { WeightsPath = pjreddie, DarknetDialect = DarknetDialect.AlexeyAB }));
        Assert.AreEqual(DiagnosticCodes.WeightsTruncated.Code, tooShort.Code);
    }

    [TestMethod]
    public void A_conv_with_share_index_stores_nothing_and_reuses_the_shared_layers_tensors()
    {
        const string cfg = """
            [net]
            width=4
            height=4
            channels=2

            [convolutional]
            filters=2
            size=1
            activation=linear

            [convolutional]
            share_index=0
            filters=2
            size=1
            activation=linear
            """;

        // Only layer 0 is in the file: 2 biases + 2 x 2 x 1 x 1 weights = 6 floats.
        using var temp = new TempDirectory();
        var weights = temp.Write("m.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 5, 0), WeightsFile.Counting(6)));

        var model = DarknetCfg.Read(cfg, new ModelReadOptions { WeightsPath = weights });

        var layers = ((DarknetModel)model.SourceDocument!).Layers;
        Assert.HasCount(2, layers[0].StoredTensors);
        Assert.IsEmpty(layers[1].StoredTensors);
        var secondConv = model.Graph.Nodes.Single(n => n.OpType == "Conv" && n.Origin.Index == 1);
        CollectionAssert.Contains(secondConv.Inputs, "layer0/weights");
        CollectionAssert.Contains(secondConv.Inputs, "layer0/biases");

        // The shared tensors are stored once, so counted once: 6 parameters, not 12.
        var report = CostModel.Analyze(model);
        Assert.AreEqual(6L, report.Totals.Params);
        Assert.AreEqual(0L, report.Layer(1).Cost.Params);
    }

    /// <summary>Two small convs: by hand, 20-byte header, layer 0 2 biases + 2x1x3x3 weights = 20 floats (bytes 20..100), layer 1 4 biases (100..116) + 4x2 weights (116..148).</summary>
    private const string TwoConvs = """
        [net]
        width=8
        height=8
        channels=1

        [convolutional]
        filters=2
        size=3
        pad=1
        activation=leaky

        [convolutional]
        filters=4
        size=1
        activation=leaky
        """;

    [TestMethod]
    public void A_truncated_file_names_expected_and_actual_bytes_and_the_first_layer_that_runs_out()
    {
        using var temp = new TempDirectory();
        var weights = temp.Write("short.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 5, 0), WeightsFile.Counting(25)));
        Assert.AreEqual(120, new FileInfo(weights).Length);

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.WeightsTruncated.Code, error.Code);
        Assert.AreEqual(weights, error.Location.File);
        var message = error.Diagnostic.Message;
        Assert.Contains("expected 148", message);
        Assert.Contains("actual 120", message);
        Assert.Contains("Layer 1 [convolutional]", message);

        // The layer's cfg location, line of the second [convolutional] header.
        Assert.Contains($"{DarknetCfg.FileName}({DarknetCfg.LineOf(TwoConvs, "[convolutional]", 2)},1)", message);
        Assert.Contains("weights needs bytes 116..148", message);
    }

    [TestMethod]
    public void An_oversized_file_names_expected_and_actual_bytes_and_the_surplus()
    {
        using var temp = new TempDirectory();
        var weights = temp.Write("long.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 5, 0), WeightsFile.Counting(35)));

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.WeightsOversized.Code, error.Code);
        Assert.AreEqual(weights, error.Location.File);
        Assert.Contains("expected 148", error.Diagnostic.Message);
        Assert.Contains("actual 160", error.Diagnostic.Message);
        Assert.Contains("12 bytes are left", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(10)]
    [DataRow(15)]
    public void A_file_shorter_than_the_smallest_header_is_a_bad_header(int length)
    {
        using var temp = new TempDirectory();
        var weights = temp.Write("tiny.weights", new byte[length]);

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.WeightsBadHeader.Code, error.Code);
        Assert.AreEqual(weights, error.Location.File);
        Assert.Contains($"has {length} bytes", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_version_0_2_file_cut_inside_its_64_bit_seen_is_a_bad_header()
    {
        using var temp = new TempDirectory();
        var weights = temp.Write("cut.weights", WeightsFile.Header64(0, 2, 5, 0)[..18]);

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.WeightsBadHeader.Code, error.Code);
        Assert.Contains("20-byte header", error.Diagnostic.Message);
    }

    [TestMethod]
    public void Negative_version_numbers_are_a_bad_header()
    {
        using var temp = new TempDirectory();
        var weights = temp.Write("text.weights", WeightsFile.With(WeightsFile.Header64(-1, 2, 5, 0), WeightsFile.Counting(32)));

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.WeightsBadHeader.Code, error.Code);
        Assert.Contains("-1.2.5", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(214748365, 0)] // 2,147,483,650 > 2^31 - 1
    [DataRow(214748364, 8)] // 2,147,483,640 + 8 = 2,147,483,648
    [DataRow(int.MaxValue, int.MaxValue)]
    public void A_version_whose_major_times_10_plus_minor_overflows_darknets_int_is_a_bad_header(int major, int minor)
    {
        // Darknet picks the width of seen from major*10 + minor as a C int: undefined past 2^31 - 1.
        using var temp = new TempDirectory();
        var weights = temp.Write("v.weights", WeightsFile.With(WeightsFile.Header64(major, minor, 5, 0), WeightsFile.Counting(32)));

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.WeightsBadHeader.Code, error.Code);
        Assert.Contains($"version {major}.{minor}.5", error.Diagnostic.Message);
        Assert.Contains("overflows 32 bits", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(214748364, 7, DarknetDialect.AlexeyAB, true)] // 2,147,483,640 + 7 = 2^31 - 1 exactly
    [DataRow(0, int.MaxValue, DarknetDialect.AlexeyAB, true)]
    [DataRow(0, int.MaxValue, DarknetDialect.Pjreddie, false)] // minor >= 1000
    public void Extreme_header_fields_within_darknets_int_are_read_and_kept_without_sizing_anything(int major, int minor, DarknetDialect dialect, bool seen64)
    {
        // TwoConvs needs 32 floats whatever the header says; revision and seen are kept verbatim.
        using var temp = new TempDirectory();
        var header = seen64 ? WeightsFile.Header64(major, minor, int.MaxValue, ulong.MaxValue) : WeightsFile.Header32(major, minor, int.MaxValue, uint.MaxValue);
        var weights = temp.Write("v.weights", WeightsFile.With(header, WeightsFile.Counting(32)));

        var model = DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights, DarknetDialect = dialect });

        var read = ((DarknetModel)model.SourceDocument!).Header!;
        Assert.AreEqual((major, minor, int.MaxValue, seen64 ? ulong.MaxValue : uint.MaxValue), (read.Major, read.Minor, read.Revision, read.Seen));
        Assert.AreEqual(31f, model.Graph.Initializers["layer1/weights"].Data!.ToArray()[^1]);
    }

    [TestMethod]
    public void A_missing_weights_file_is_file_not_found()
    {
        using var temp = new TempDirectory();
        var weights = temp.Combine("absent.weights");

        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(TwoConvs, new ModelReadOptions { WeightsPath = weights }));

        Assert.AreEqual(DiagnosticCodes.FileNotFound.Code, error.Code);
        Assert.AreEqual(weights, error.Location.File);
    }

    [TestMethod]
    public void A_tiny_file_for_an_enormous_cfg_is_truncated_without_allocating_what_the_cfg_declares()
    {
        // The largest layer the reader accepts: 2 x 1024 x 1024 = 2,097,152 inputs into a connected
        // layer of 1000 outputs: 2,097,152,000 weights (one tensor holds at most 2^31 - 1 =
        // 2,147,483,647) + 1000 biases = 2,097,153,000 floats, x 4 bytes + 20 header =
        // 8,388,612,020 bytes (8.4 GB). The file has 100 bytes.
        const string cfg = """
            [net]
            width=1024
            height=1024
            channels=2

            [connected]
            output=1000
            activation=linear
            """;
        using var temp = new TempDirectory();
        var weights = temp.Write("hostile.weights", WeightsFile.With(WeightsFile.Header64(0, 2, 5, 0), WeightsFile.Counting(20)));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.ThrowsExactly<NeuralException>(() => DarknetCfg.Read(cfg, new ModelReadOptions { WeightsPath = weights }));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(DiagnosticCodes.WeightsTruncated.Code, error.Code);
        Assert.Contains("expected 8,388,612,020", error.Diagnostic.Message);
        Assert.Contains("actual 100", error.Diagnostic.Message);
        Assert.Contains("Layer 0 [connected]", error.Diagnostic.Message);

        // Reading a cfg and a header costs kilobytes; anything sized by the cfg would be gigabytes.
        Assert.IsLessThan(16L << 20, allocated, $"{allocated:N0} bytes allocated");
    }
}
