using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Surgery;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Surgery;

/// <summary><see cref="Transplant"/> from and into Darknet models, and across formats.</summary>
[TestClass]
public sealed class TransplantDarknetTests
{
    private static TransplantResult Run(TempDirectory directory, string output, TransplantRequest request)
    {
        using var set = OutputSet.Begin(directory.Combine(output));
        var result = Transplant.Run(request, set);
        set.Commit();
        return result;
    }

    [TestMethod]
    public void Retrained_darknet_weights_go_into_the_deployed_onnx_export_bit_for_bit()
    {
        // The deployed model: yolov3-tiny exported to ONNX (BatchNorm folded) from one training run's
        // weights. The old model: another run's weights, folded by fuse, so its layers are the export's.
        using var directory = new TempDirectory();
        var cfg = directory.WriteText("yolov3-tiny.cfg", File.ReadAllText(TestPaths.Corpus("yolov3-tiny.cfg")));
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 1 });
        ModelConverter.Convert(new ConvertRequest { DefinitionPath = cfg, To = "onnx", Verify = VerifyMode.None, OutputDirectory = directory.Combine("deployed") });
        var deployed = directory.Combine("deployed/yolov3-tiny.onnx");

        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 2 });
        ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = cfg, Verify = VerifyMode.None, OutputDirectory = directory.Combine("retrained") });
        var retrained = directory.Combine("retrained/yolov3-tiny.cfg");

        // Names differ across the formats: the k-th convolution of one is the k-th of the other.
        var oldModel = ModelFormats.Read(retrained, new ModelReadOptions { WeightsPath = Path.ChangeExtension(retrained, ".weights") });
        var newModel = ModelFormats.Read(deployed);
        var oldConvs = oldModel.Graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        var newConvs = newModel.Graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        Assert.HasCount(13, oldConvs);
        Assert.HasCount(oldConvs.Count, newConvs);
        var map = directory.WriteText("map.txt", "# deployed retrained\n" + string.Concat(newConvs.Zip(oldConvs, (n, o) => $"{n.Origin.Name} {o.Origin.Name}\n")));

        var result = Run(directory, "out", new TransplantRequest { FromDefinition = retrained, ToDefinition = deployed, MapPath = map });

        var writtenPath = directory.Combine("out/yolov3-tiny.onnx");
        Assert.AreEqual(OnnxChecker.Check(deployed), OnnxChecker.Check(writtenPath), "the same valid graph");
        var written = ModelFormats.Read(writtenPath);
        CollectionAssert.AreEqual(newModel.Graph.Initializers.Keys.ToList(), written.Graph.Initializers.Keys.ToList(), "every tensor keeps its name and place");
        var writtenConvs = written.Graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        for (var k = 0; k < oldConvs.Count; k++)
        {
            for (var input = 1; input <= 2; input++)
            {
                var expected = oldModel.Graph.Initializers[oldConvs[k].Inputs[input]].Data!.ToArray();
                var before = newModel.Graph.Initializers[newConvs[k].Inputs[input]].Data!.ToArray();
                var after = written.Graph.Initializers[writtenConvs[k].Inputs[input]].Data!.ToArray();
                CollectionAssert.AreNotEqual(expected, before, "the two runs' weights differ to begin with");
                CollectionAssert.AreEqual(Bits(expected), Bits(after), $"conv {k} input {input}");
            }
        }

        // The rest of the export's constants (the [yolo] heads' decoding factors) stay the deployed model's own.
        var convNames = newConvs.Select(n => n.Origin.Name).ToHashSet();
        Assert.IsTrue(result.Layers.All(l => l.Outcome == (convNames.Contains(l.Name) ? LayerOutcome.Copied : LayerOutcome.NewWeights)), TransplantReport.Text(result));
        Assert.AreEqual(oldModel.Graph.Initializers.Values.Sum(i => i.Shape.ElementCount), result.Layers.Sum(l => l.CopiedValues));
        Assert.IsEmpty(result.Warnings);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private const string Head = """
        [net]
        width=16
        height=16
        channels=3

        [convolutional]
        batch_normalize=1
        filters=8
        size=3
        stride=1
        pad=1
        activation=leaky

        """;

    /// <summary>The one-conv model of <see cref="Head"/> with seeded weights: old.cfg, old.weights.</summary>
    private static string OldModel(TempDirectory directory)
    {
        var old = directory.WriteText("old.cfg", Head);
        DarknetSyntheticWeights.Write(ModelFormats.Read(old), Path.ChangeExtension(old, ".weights"), new SyntheticWeightsOptions { Seed = 3 });
        return old;
    }

    [TestMethod]
    public void A_new_darknet_layer_is_initialised_by_darknets_rule_and_the_weights_file_reads_back()
    {
        using var directory = new TempDirectory();
        var old = OldModel(directory);
        var changed = directory.WriteText("new.cfg", Head + "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n[connected]\noutput=10\nactivation=linear\n");

        var result = Run(directory, "out", new TransplantRequest { FromDefinition = old, ToDefinition = changed });

        var oldModel = ModelFormats.Read(old, new ModelReadOptions { WeightsPath = Path.ChangeExtension(old, ".weights") });
        var written = ModelFormats.Read(directory.Combine("out/new.cfg"), new ModelReadOptions { WeightsPath = directory.Combine("out/new.weights") });
        float[] Values(Model model, string name) => model.Graph.Initializers[name].Data!.ToArray();
        foreach (var name in oldModel.Graph.Initializers.Keys)
        {
            CollectionAssert.AreEqual(Bits(Values(oldModel, name)), Bits(Values(written, name)), name);
        }

        // Layer 1: 4 filters of 8 channels x 3 x 3, scale sqrt(2 / 72) x uniform(-1, 1) (AlexeyAB's darknet).
        var bound = (float)Math.Sqrt(2.0 / 72);
        var weights = Values(written, "layer1/weights");
        Assert.IsTrue(weights.All(v => Math.Abs(v) <= bound));
        Assert.IsGreaterThan(bound * 0.8f, weights.Max(), "spread over the interval, not collapsed");
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 1 }, Values(written, "layer1/scales"));
        CollectionAssert.AreEqual(new float[4], Values(written, "layer1/biases"));
        CollectionAssert.AreEqual(new float[4], Values(written, "layer1/rolling_mean"));
        CollectionAssert.AreEqual(new float[4], Values(written, "layer1/rolling_variance"));
        // Layer 2: connected, 16 x 16 x 4 = 1024 inputs: sqrt(2 / 1024) x uniform(-1, 1).
        Assert.IsTrue(Values(written, "layer2/weights").All(v => Math.Abs(v) <= (float)Math.Sqrt(2.0 / 1024)));

        CollectionAssert.AreEqual(new[] { LayerOutcome.Copied, LayerOutcome.Initialised, LayerOutcome.Initialised }, result.Layers.Select(l => l.Outcome).ToList());
        StringAssert.Contains(TransplantReport.Text(result), "darknet's rule: sqrt(2/72) * uniform(-1, 1)");
    }

    [TestMethod]
    public void A_parameter_with_no_source_and_no_rule_asks_for_the_new_weights()
    {
        using var directory = new TempDirectory();
        var old = OldModel(directory);
        var changed = directory.WriteText("new.cfg", Head + "[deconvolutional]\nfilters=4\nsize=2\nstride=2\nactivation=linear\n");

        var error = DiagnosticAssert.Throws(DiagnosticCodes.TransplantNeedsNewWeights, () => Run(directory, "out", new TransplantRequest { FromDefinition = old, ToDefinition = changed }));

        Assert.AreEqual(new SourceLocation(changed, DarknetCfg.LineOf(File.ReadAllText(changed), "[deconvolutional]"), 1), error.Location);
        StringAssert.Contains(error.Message, "--to-weights");
        Assert.IsFalse(Directory.Exists(directory.Combine("out")) && Directory.EnumerateFiles(directory.Combine("out")).Any(), "nothing is written");
    }

    [TestMethod]
    public void A_map_line_naming_no_layer_is_a_warning_at_its_line()
    {
        using var directory = new TempDirectory();
        var old = OldModel(directory);
        var map = directory.WriteText("map.txt", "0 0\n0x 7 # no such layer\n");
        var changed = directory.WriteText("new.cfg", Head);

        var result = Run(directory, "out", new TransplantRequest { FromDefinition = old, ToDefinition = changed, MapPath = map });

        var warning = result.Warnings.Single();
        Assert.AreEqual("NM2052", warning.Code);
        Assert.AreEqual(new SourceLocation(map, 2, 1), warning.Location);
        Assert.AreEqual(LayerOutcome.Copied, result.Layers.Single().Outcome);
    }

    [TestMethod]
    public void Layers_paired_across_a_fold_copy_the_parameters_they_share_and_name_the_others()
    {
        // The export folded the BatchNorm into the conv (weights and bias); the old Darknet conv keeps
        // its weights and BatchNorm: only the weights pair.
        using var directory = new TempDirectory();
        var old = OldModel(directory);
        ModelConverter.Convert(new ConvertRequest { DefinitionPath = old, To = "onnx", Verify = VerifyMode.None, OutputDirectory = directory.Combine("deployed") });
        var deployed = directory.Combine("deployed/old.onnx");
        var conv = ModelFormats.Read(deployed).Graph.Nodes.Single(n => n.OpType == "Conv");
        var map = directory.WriteText("map.txt", $"{conv.Origin.Name} 0\n");

        var result = Run(directory, "out", new TransplantRequest { FromDefinition = old, ToDefinition = deployed, MapPath = map });

        var layer = result.Layers.Single();
        Assert.AreEqual(LayerOutcome.Mixed, layer.Outcome);
        CollectionAssert.AreEqual(new[] { ParameterSource.Copied, ParameterSource.NewWeights }, layer.Parameters.Select(p => p.Source).ToList());
        var warning = result.Warnings.Single();
        Assert.AreEqual("NM2053", warning.Code);
        StringAssert.Contains(warning.Message, "only the new one has Conv[2]; only the old one has BatchNormalization[1], BatchNormalization[2], BatchNormalization[3], BatchNormalization[4]");
        var oldWeights = ModelFormats.Read(old, new ModelReadOptions { WeightsPath = Path.ChangeExtension(old, ".weights") }).Graph.Initializers["layer0/weights"].Data!.ToArray();
        var written = ModelFormats.Read(directory.Combine("out/old.onnx"));
        CollectionAssert.AreEqual(Bits(oldWeights), Bits(written.Graph.Initializers[written.Graph.Nodes.Single(n => n.OpType == "Conv").Inputs[1]].Data!.ToArray()));
    }

    [TestMethod]
    public void With_pjreddies_dialect_a_conv_is_initialised_normally_distributed_and_an_option_neither_model_takes_is_NM0005()
    {
        using var directory = new TempDirectory();
        var old = OldModel(directory);
        var changed = directory.WriteText("new.cfg", Head + "[convolutional]\nfilters=64\nsize=3\nstride=1\npad=1\nactivation=leaky\n");
        var pjreddie = new Dictionary<string, string> { ["dialect"] = "pjreddie" };

        var result = Run(directory, "out", new TransplantRequest { FromDefinition = old, ToDefinition = changed, FormatOptions = pjreddie });

        // pjreddie's darknet: sqrt(2 / (3 x 3 x 8)) x N(0, 1) over 64 x 8 x 3 x 3 = 4,608 weights.
        var written = ModelFormats.Read(directory.Combine("out/new.cfg"), new ModelReadOptions { WeightsPath = directory.Combine("out/new.weights") });
        var weights = written.Graph.Initializers["layer1/weights"].Data!.ToArray().Select(v => (double)v).ToList();
        Assert.AreEqual(0, weights.Average(), 4 * Math.Sqrt(2.0 / 72) / Math.Sqrt(4608));
        Assert.AreEqual(Math.Sqrt(2.0 / 72), Math.Sqrt(weights.Average(v => v * v)), 0.05 * Math.Sqrt(2.0 / 72));
        StringAssert.Contains(TransplantReport.Text(result), "darknet's rule: sqrt(2/72) * normal(0, 1)");

        var error = DiagnosticAssert.Throws(DiagnosticCodes.InvalidFormatOption,
            () => Run(directory, "out2", new TransplantRequest { FromDefinition = old, ToDefinition = changed, FormatOptions = new Dictionary<string, string> { ["colour"] = "red" } }));
        StringAssert.Contains(error.Message, "'colour'");
    }
}
