using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Surgery;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Surgery;

/// <summary>
/// <see cref="Transplant"/> between Caffe models (issue 15's first "Done when"): the written caffemodel
/// is read back by <see cref="CaffemodelWire"/>, not by NeuralBuild's reader.
/// </summary>
[TestClass]
public sealed class TransplantCaffeTests
{
    private static TempDirectory s_mobileNet = null!;
    private static string s_mobileNetPrototxt = null!;

    [ClassInitialize]
    public static void WriteMobileNet(TestContext context)
    {
        s_mobileNet = new TempDirectory();
        s_mobileNetPrototxt = s_mobileNet.WriteText("mobilenet_v1.prototxt", File.ReadAllText(Path.Combine(TestPaths.CaffeCorpus, "mobilenet_v1.deploy.prototxt")));
        CaffeSyntheticWeights.Write(ModelFormats.Read(s_mobileNetPrototxt), Path.ChangeExtension(s_mobileNetPrototxt, ".caffemodel"), new SyntheticWeightsOptions { Seed = 11 });
    }

    [ClassCleanup]
    public static void Cleanup() => s_mobileNet.Dispose();

    /// <summary>The corpus MobileNet v1 with its 1000-class fc7 (a 1x1 convolution, msra filler) renamed fc7_voc and cut to 21 classes.</summary>
    private static string VocClassifier(TempDirectory directory)
    {
        var text = File.ReadAllText(s_mobileNetPrototxt);
        var fc7 = text.IndexOf("name: \"fc7\"", StringComparison.Ordinal);
        var classes = text.IndexOf("num_output: 1000", fc7, StringComparison.Ordinal);
        text = text[..classes] + "num_output: 21" + text[(classes + "num_output: 1000".Length)..];
        text = text.Replace("\"fc7\"", "\"fc7_voc\"", StringComparison.Ordinal);
        return directory.WriteText("mobilenet_voc.prototxt", text);
    }

    /// <summary>
    /// old.prototxt (with seeded weights) and new.prototxt from <paramref name="net"/>, whose layer names
    /// start with "{0}": "old_" in one, "new_" in the other, so nothing pairs by name.
    /// </summary>
    private static (string Old, string New) RenamedPair(TempDirectory directory, string net)
    {
        var old = directory.WriteText("old.prototxt", net.Replace("{0}", "old_", StringComparison.Ordinal));
        CaffeSyntheticWeights.Write(ModelFormats.Read(old), Path.ChangeExtension(old, ".caffemodel"), new SyntheticWeightsOptions { Seed = 1 });
        return (old, directory.WriteText("new.prototxt", net.Replace("{0}", "new_", StringComparison.Ordinal)));
    }

    private static (TransplantResult Result, string Directory) Run(TempDirectory directory, TransplantRequest request)
    {
        var output = directory.Combine("out");
        using var set = OutputSet.Begin(output);
        var result = Transplant.Run(request, set);
        set.Commit();
        return (result, output);
    }

    [TestMethod]
    public void MobileNet_into_a_21_class_classifier_copies_every_other_blob_bit_for_bit_and_initialises_the_classifier_by_its_filler()
    {
        using var directory = new TempDirectory();
        var voc = VocClassifier(directory);

        var (result, output) = Run(directory, new TransplantRequest { FromDefinition = s_mobileNetPrototxt, ToDefinition = voc });

        var old = CaffemodelWire.Read(Path.ChangeExtension(s_mobileNetPrototxt, ".caffemodel"));
        var written = CaffemodelWire.Read(Path.Combine(output, "mobilenet_voc.caffemodel"));
        Assert.AreEqual(File.ReadAllText(voc), File.ReadAllText(Path.Combine(output, "mobilenet_voc.prototxt")), "the definition is written as given");
        CollectionAssert.AreEquivalent(old.Keys.Where(k => k != "fc7").Append("fc7_voc").ToList(), written.Keys.ToList());
        foreach (var (name, layer) in written.Where(l => l.Key != "fc7_voc"))
        {
            // Weights, bias, BatchNorm's sums and moving-average factor, Scale's gamma and beta: as stored.
            Assert.HasCount(old[name].Blobs.Count, layer.Blobs, name);
            for (var i = 0; i < layer.Blobs.Count; i++)
            {
                CollectionAssert.AreEqual(old[name].Blobs[i].Encoded, layer.Blobs[i].Encoded, $"{name} blob {i}");
            }
        }

        // msra: normal(0, sqrt(2 / fan_in)), fan_in = count / num = 1024 x 1 x 1 input values per output.
        var classifier = written["fc7_voc"];
        CollectionAssert.AreEqual(new long[] { 21, 1024, 1, 1 }, classifier.Blobs[0].Shape);
        var weights = classifier.Blobs[0].Data;
        Assert.HasCount(21 * 1024, weights);
        var expectedStd = Math.Sqrt(2.0 / 1024);
        var mean = weights.Average(v => (double)v);
        var std = Math.Sqrt(weights.Average(v => (v - mean) * (v - mean)));
        Assert.IsLessThan(4 * expectedStd / Math.Sqrt(weights.Length), Math.Abs(mean), "mean within 4 standard errors of 0");
        Assert.IsLessThan(0.03, Math.Abs((std / expectedStd) - 1), $"std {std} vs msra's {expectedStd}");
        CollectionAssert.AreEqual(new float[21], classifier.Blobs[1].Data, "bias_filler constant 0");

        var fc7Voc = result.Layers.Single(l => l.Name == "fc7_voc");
        Assert.AreEqual(LayerOutcome.Initialised, fc7Voc.Outcome);
        Assert.AreEqual(21L * 1024 + 21, fc7Voc.ParameterCount);
        Assert.IsTrue(result.Layers.Where(l => l != fc7Voc).All(l => l.Outcome == LayerOutcome.Copied));
        CollectionAssert.AreEqual(new[] { "fc7" }, result.UnusedOldLayers.ToList());
        var report = TransplantReport.Text(result);
        StringAssert.Contains(report, "| fc7_voc | Convolution | initialised | - | 21,525 | 0 | Conv[1]: msra (fan_in 1024); Conv[2]: constant 0 |");
        StringAssert.Contains(report, "| conv1/bn | BatchNorm | copied | conv1/bn | 64 | 64 |");
    }

    [TestMethod]
    public void The_same_seed_writes_the_same_bytes_and_another_seed_other_ones()
    {
        using var directory = new TempDirectory();
        var voc = VocClassifier(directory);
        byte[] Weights(int seed, string name)
        {
            var output = directory.Combine(name);
            using (var set = OutputSet.Begin(output))
            {
                Transplant.Run(new TransplantRequest { FromDefinition = s_mobileNetPrototxt, ToDefinition = voc, Seed = seed }, set);
                set.Commit();
            }

            return File.ReadAllBytes(Path.Combine(output, "mobilenet_voc.caffemodel"));
        }

        var first = Weights(7, "a");
        CollectionAssert.AreEqual(first, Weights(7, "b"));
        CollectionAssert.AreNotEqual(first, Weights(8, "c"));
    }

    [TestMethod]
    public void Xavier_with_average_variance_norm_draws_uniformly_within_sqrt_3_over_the_mean_fan()
    {
        using var directory = new TempDirectory();
        const string Net = """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "{0}fc" type: "InnerProduct" bottom: "data" top: "fc"
                    inner_product_param { num_output: 100 weight_filler { type: "xavier" variance_norm: AVERAGE } bias_filler { type: "constant" value: 0.5 } } }
            """;
        var (old, changed) = RenamedPair(directory, Net);

        var (result, output) = Run(directory, new TransplantRequest { FromDefinition = old, ToDefinition = changed });

        // Weights 100 x 192: fan_in 192, fan_out 100, n = 146, bound sqrt(3/146); variance bound^2 / 3 = 1/146.
        var blobs = CaffemodelWire.Read(Path.Combine(output, "new.caffemodel"))["new_fc"].Blobs;
        var bound = Math.Sqrt(3.0 / 146);
        Assert.IsTrue(blobs[0].Data.All(v => Math.Abs(v) <= bound), "every value within the bound");
        var variance = blobs[0].Data.Average(v => (double)v * v);
        Assert.IsLessThan(0.03, Math.Abs((variance * 146) - 1), $"variance {variance} vs 1/146");
        Assert.IsTrue(blobs[1].Data.All(v => v == 0.5f));
        Assert.AreEqual(LayerOutcome.Initialised, result.Layers.Single().Outcome);
        Assert.IsTrue(result.Warnings.Any(w => w.Code == "NM2054"), "nothing matched by name");
    }

    [TestMethod]
    public void A_malformed_map_line_is_refused_at_its_line_and_column()
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.TransplantMapMalformed, () => TransplantMap.Parse("map.txt", "# pairs\nfc8 fc7\n  fc9 fc7 extra\n"));
        Assert.AreEqual(new SourceLocation("map.txt", 3, 3), error.Location);

        var duplicate = DiagnosticAssert.Throws(DiagnosticCodes.TransplantMapDuplicate, () => TransplantMap.Parse("map.txt", "fc8 fc7 # the classifier\n\nfc8 fc6\n"));
        Assert.AreEqual(3, duplicate.Location.Line);
        StringAssert.Contains(duplicate.Message, "line 1");

        var map = TransplantMap.Parse("map.txt", "fc8\tfc7  # renamed\n");
        Assert.AreEqual("fc7", map.OldLayerOf("fc8"));
        Assert.AreEqual("conv1", map.OldLayerOf("conv1"));
    }

    [TestMethod]
    public void Caffe_into_onnx_and_back_into_a_caffe_definition_without_weights_keeps_every_value()
    {
        using var directory = new TempDirectory();
        const string Net = """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 12 dim: 12 }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 6 kernel_size: 3 bias_term: false } }
            layer { name: "conv1/bn" type: "BatchNorm" bottom: "conv1" top: "conv1" }
            layer { name: "conv1/scale" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
            layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
            layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc" inner_product_param { num_output: 5 } }
            """;
        var prototxt = directory.WriteText("net.prototxt", Net);
        var weights = Path.ChangeExtension(prototxt, ".caffemodel");
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), weights, new SyntheticWeightsOptions { Seed = 1 });
        ModelConverter.Convert(new ConvertRequest { DefinitionPath = prototxt, To = "onnx", Verify = VerifyMode.None, OutputDirectory = directory.Combine("deployed") });
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), weights, new SyntheticWeightsOptions { Seed = 2 });
        ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.None, OutputDirectory = directory.Combine("retrained") });
        var retrained = directory.Combine("retrained/net.prototxt");

        // Names differ across the formats: the export's two nodes with parameters are the conv and the classifier, in order.
        var deployed = ModelFormats.Read(directory.Combine("deployed/net.onnx"));
        var exported = deployed.Graph.Nodes.Where(n => n.Inputs.Any(deployed.Graph.Initializers.ContainsKey)).Select(n => n.Origin.Name).ToList();
        Assert.HasCount(2, exported, string.Join(", ", exported));
        var toOnnx = directory.WriteText("to-onnx.txt", $"{exported[0]} conv1\n{exported[1]} fc\n");
        var toCaffe = directory.WriteText("to-caffe.txt", $"conv1 {exported[0]}\nfc {exported[1]}\n");

        var intoOnnx = Run(directory, new TransplantRequest { FromDefinition = retrained, ToDefinition = directory.Combine("deployed/net.onnx"), MapPath = toOnnx }).Result;
        File.Move(directory.Combine("out/net.onnx"), directory.Combine("carried.onnx"));
        var back = Run(directory, new TransplantRequest { FromDefinition = directory.Combine("carried.onnx"), ToDefinition = retrained, MapPath = toCaffe });

        Assert.IsTrue(intoOnnx.Layers.All(l => l.Outcome == LayerOutcome.Copied), TransplantReport.Text(intoOnnx));
        Assert.IsTrue(back.Result.Layers.All(l => l.Outcome == LayerOutcome.Copied), TransplantReport.Text(back.Result));
        var original = CaffemodelWire.Read(Path.ChangeExtension(retrained, ".caffemodel"));
        var roundTrip = CaffemodelWire.Read(Path.Combine(back.Directory, "net.caffemodel"));
        CollectionAssert.AreEquivalent(original.Keys.ToList(), roundTrip.Keys.ToList());
        foreach (var (name, layer) in original)
        {
            for (var i = 0; i < layer.Blobs.Count; i++)
            {
                CollectionAssert.AreEqual(layer.Blobs[i].Data, roundTrip[name].Blobs[i].Data, $"{name} blob {i}");
                CollectionAssert.AreEqual(layer.Blobs[i].Shape, roundTrip[name].Blobs[i].Shape, $"{name} blob {i}");
            }
        }
    }

    [TestMethod]
    public void Uniform_and_gaussian_fillers_draw_their_stated_distributions()
    {
        using var directory = new TempDirectory();
        const string Net = """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "{0}conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 200 kernel_size: 3
                    weight_filler { type: "uniform" min: -2 max: 3 } bias_filler { type: "gaussian" mean: 1 std: 0.5 } } }
            """;
        var (old, changed) = RenamedPair(directory, Net);

        var (_, output) = Run(directory, new TransplantRequest { FromDefinition = old, ToDefinition = changed });

        var blobs = CaffemodelWire.Read(Path.Combine(output, "new.caffemodel"))["new_conv"].Blobs;
        // U(-2, 3): within the bounds, mean 0.5, variance 25 / 12.
        var weights = blobs[0].Data.Select(v => (double)v).ToList();
        Assert.HasCount(200 * 3 * 3 * 3, weights);
        Assert.IsTrue(weights.All(v => v is >= -2 and <= 3));
        Assert.AreEqual(0.5, weights.Average(), 0.05);
        Assert.AreEqual(25.0 / 12, weights.Average(v => (v - 0.5) * (v - 0.5)), 0.1);
        // N(1, 0.5) over 200 values: the mean within 4 standard errors (4 x 0.5 / sqrt(200) = 0.14).
        var bias = blobs[1].Data.Select(v => (double)v).ToList();
        Assert.AreEqual(1, bias.Average(), 0.14);
        Assert.AreEqual(0.5, Math.Sqrt(bias.Average(v => (v - 1) * (v - 1))), 0.1);
    }

    [TestMethod]
    public void A_filler_the_transplant_cannot_draw_is_NM0373_at_the_filler()
    {
        using var directory = new TempDirectory();
        var old = directory.WriteText("old.prototxt", "input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\nlayer { name: \"a\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 3 } }\n");
        CaffeSyntheticWeights.Write(ModelFormats.Read(old), Path.ChangeExtension(old, ".caffemodel"), new SyntheticWeightsOptions { Seed = 1 });
        var changed = directory.WriteText("new.prototxt", "input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\nlayer { name: \"b\" type: \"Convolution\" bottom: \"data\" top: \"c\"\n  convolution_param { num_output: 4 kernel_size: 3\n    weight_filler { type: \"bilinear\" } } }\n");

        var error = DiagnosticAssert.Throws(DiagnosticCodes.TransplantUnsupportedFiller, () => Run(directory, new TransplantRequest { FromDefinition = old, ToDefinition = changed }));

        Assert.AreEqual(new SourceLocation(changed, 5, 5), error.Location);
        StringAssert.Contains(error.Message, "filler type 'bilinear'");
    }
}
