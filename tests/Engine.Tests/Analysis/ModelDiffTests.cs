using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>Two models paired layer by layer: yolov3-tiny at two input sizes, a model and its fused form, and hand-made reports for the pairing rules.</summary>
[TestClass]
public sealed class ModelDiffTests
{
    private static ModelReport Inspect(string definition, string? input = null) =>
        CostModel.Analyze(ModelFormats.Read(definition, new ModelReadOptions { InputShape = input is null ? null : Shape.Parse(input) }));

    [TestMethod]
    public void Yolov3_tiny_at_416_and_448_lists_every_conv_with_its_macc_change_and_totals_that_are_the_difference_of_the_two_inspections()
    {
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");

        var diff = ModelDiff.Compare(Inspect(cfg), Inspect(cfg, "1x3x448x448"));

        // The inspections again, independently of the diff: its totals are their difference.
        var (small, large) = (Inspect(cfg), Inspect(cfg, "1x3x448x448"));
        Assert.AreEqual(large.Totals.Macc - small.Totals.Macc, diff.TotalsDelta.Macc);
        Assert.AreEqual(large.Totals.Params - small.Totals.Params, diff.TotalsDelta.Params);
        Assert.AreEqual(large.Totals.Flops - small.Totals.Flops, diff.TotalsDelta.Flops);
        Assert.AreEqual(large.Totals.MemoryAccess - small.Totals.MemoryAccess, diff.TotalsDelta.MemoryAccess);
        Assert.AreEqual(large.Totals.ActivationBytes - small.Totals.ActivationBytes, diff.TotalsDelta.ActivationBytes);
        Assert.AreEqual(large.PeakActivationBytes - small.PeakActivationBytes, diff.PeakActivationDelta);
        // And the rows add up to them.
        Assert.AreEqual(diff.TotalsDelta.Macc, diff.Layers.Sum(l => l.Delta.Macc));
        Assert.AreEqual(diff.TotalsDelta.MemoryAccessIdeal, diff.Layers.Sum(l => l.Delta.MemoryAccessIdeal));

        // yolov3-tiny.cfg has 13 [convolutional] sections; every one is paired with itself and grows.
        var convSections = File.ReadAllLines(cfg).Count(l => l.Trim() == "[convolutional]");
        var convs = diff.Layers.Where(l => l.Kind == "convolutional").ToList();
        Assert.AreEqual(13, convSections);
        Assert.HasCount(convSections, convs);
        Assert.IsTrue(convs.All(l => l.MatchedBy == LayerMatch.Position && l.Before!.Index == l.After!.Index && l.Delta.Macc > 0), "every conv paired in place, with more MACC");
        Assert.IsFalse(diff.Layers.Any(l => l.Change is LayerChange.Added or LayerChange.Removed));

        // Layer 12: 3x3 conv, 512 -> 1024 channels, output 13x13 at 416 and 14x14 at 448 (after five stride-2 max pools
        // and one stride-1): MACC = 3*3*512*1024 * (14*14 - 13*13) = 4,718,592 * 27.
        var layer12 = convs.Single(l => l.After!.Index == 12);
        Assert.AreEqual(3L * 3 * 512 * 1024 * ((14 * 14) - (13 * 13)), layer12.Delta.Macc);
        Assert.AreEqual(127_401_984L, layer12.Delta.Macc);
        Assert.AreEqual(0, layer12.Delta.Params, "the weights do not depend on the input size");
    }

    [TestMethod]
    public void A_caffe_model_and_its_fused_form_show_the_batchnorm_and_scale_layers_removed_and_every_conv_kept()
    {
        using var fixture = new DarknetFixture();
        var prototxt = Path.Combine(fixture.Folder, "mobilenet_v1.deploy.prototxt");
        File.Copy(Path.Combine(TestPaths.CaffeCorpus, "mobilenet_v1.deploy.prototxt"), prototxt);
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), Path.ChangeExtension(prototxt, ".caffemodel"), new SyntheticWeightsOptions { Seed = 7 });
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.None, OutputDirectory = Path.Combine(fixture.Folder, "out") });

        var diff = ModelDiff.Compare(result.Before, result.After);

        // Counted in the prototxt text, not by the engine.
        var text = File.ReadAllText(prototxt);
        var batchNorms = text.Split("type: \"BatchNorm\"").Length - 1;
        var scales = text.Split("type: \"Scale\"").Length - 1;
        var convolutions = text.Split("type: \"Convolution\"").Length - 1;
        Assert.IsGreaterThan(20, batchNorms);
        var removed = diff.Layers.Where(l => l.Change == LayerChange.Removed).ToList();
        Assert.AreEqual(batchNorms, removed.Count(l => l.Kind == "BatchNorm"));
        Assert.AreEqual(scales, removed.Count(l => l.Kind == "Scale"));
        Assert.HasCount(batchNorms + scales, removed);
        Assert.IsFalse(diff.Layers.Any(l => l.Change == LayerChange.Added));
        var convs = diff.Layers.Where(l => l.Kind == "Convolution").ToList();
        Assert.HasCount(convolutions, convs);
        Assert.IsTrue(convs.All(l => l.MatchedBy == LayerMatch.Name && l.Before!.Name == l.After!.Name));
        Assert.AreEqual(0, diff.TotalsDelta.Macc, "folding moves no multiply-accumulate");
        Assert.IsLessThan(0, diff.TotalsDelta.Params);
    }

    [TestMethod]
    public void A_darknet_conv_whose_batchnorm_was_folded_keeps_its_row_and_lists_the_op_removed()
    {
        using var fixture = new DarknetFixture();
        var cfg = Path.Combine(fixture.Folder, "yolov3-tiny.cfg");
        File.Copy(TestPaths.Corpus("yolov3-tiny.cfg"), cfg);
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 7 });
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = cfg, Verify = VerifyMode.None, OutputDirectory = Path.Combine(fixture.Folder, "out") });

        var diff = ModelDiff.Compare(result.Before, result.After);

        var withBatchNorm = File.ReadAllLines(cfg).Count(l => l.Replace(" ", string.Empty, StringComparison.Ordinal) == "batch_normalize=1");
        var folded = diff.Layers.Where(l => l.OpsRemoved.SequenceEqual(["BatchNormalization"])).ToList();
        Assert.HasCount(withBatchNorm, folded);
        Assert.IsTrue(folded.All(l => l.Kind == "convolutional" && l.Change == LayerChange.Changed));
        Assert.IsFalse(diff.Layers.Any(l => l.Change is LayerChange.Added or LayerChange.Removed));
    }

    private static LayerReport Layer(int index, string kind, string name, long macc = 0) =>
        new(index, kind, name, SourceLocation.None, "1x1x1x1", [kind], new CostFigures { Macc = macc });

    private static ModelReport Report(params LayerReport[] layers) =>
        new("m", "test", "1x1x1x1", CountingConvention.Default, layers, layers.Aggregate(new CostFigures(), (s, l) => s + l.Cost), 0, 0);

    [TestMethod]
    public void An_inserted_layer_is_added_and_the_layers_after_it_stay_paired_with_their_own()
    {
        // Darknet-style names (the index) say nothing: pairing is by kind in order.
        var before = Report(Layer(0, "conv", "0", 10), Layer(1, "pool", "1"), Layer(2, "conv", "2", 20));
        var after = Report(Layer(0, "conv", "0", 10), Layer(1, "pool", "1"), Layer(2, "dropout", "2"), Layer(3, "conv", "3", 20));

        var diff = ModelDiff.Compare(before, after);

        CollectionAssert.AreEqual(
            new[] { "#0 -> #0", "#1 -> #1", "- -> #2", "#2 -> #3" },
            diff.Layers.Select(l => l.Indices).ToArray());
        CollectionAssert.AreEqual(
            new[] { LayerChange.Unchanged, LayerChange.Unchanged, LayerChange.Added, LayerChange.Unchanged },
            diff.Layers.Select(l => l.Change).ToArray());
    }

    [TestMethod]
    public void Named_layers_pair_by_name_across_a_reordering_and_a_removed_one_sits_where_it_was()
    {
        var before = Report(Layer(0, "conv", "a", 1), Layer(1, "bn", "a_bn"), Layer(2, "conv", "b", 2), Layer(3, "conv", "c", 3));
        var after = Report(Layer(0, "conv", "a", 1), Layer(1, "conv", "c", 5), Layer(2, "conv", "b", 2));

        var diff = ModelDiff.Compare(before, after);

        Assert.IsTrue(diff.Layers.Where(l => l.Before is not null && l.After is not null).All(l => l.MatchedBy == LayerMatch.Name && l.Before!.Name == l.After!.Name));
        CollectionAssert.AreEqual(new[] { "a", "a_bn", "c", "b" }, diff.Layers.Select(l => (l.After ?? l.Before)!.Name).ToArray());
        Assert.AreEqual(LayerChange.Removed, diff.Layers[1].Change);
        Assert.AreEqual(2, diff.Layers[2].Delta.Macc, "c: 3 -> 5");
        Assert.AreEqual(2, diff.TotalsDelta.Macc);
    }

    [TestMethod]
    public void A_layer_whose_kind_changed_under_the_same_name_is_removed_and_added()
    {
        var diff = ModelDiff.Compare(Report(Layer(0, "conv", "x", 4)), Report(Layer(0, "fc", "x", 4)));

        CollectionAssert.AreEqual(new[] { LayerChange.Removed, LayerChange.Added }, diff.Layers.Select(l => l.Change).ToArray());
        Assert.IsFalse(diff.AnyMatched);
    }
}
