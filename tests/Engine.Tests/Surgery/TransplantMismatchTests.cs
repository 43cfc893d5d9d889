using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Surgery;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Surgery;

/// <summary>
/// ResNet-50 into a definition whose res5c_branch2a has 256 filters instead of 512: that layer, its
/// BatchNorm and Scale, and res5c_branch2b (which reads 256 channels now) change shape.
/// </summary>
[TestClass]
public sealed class TransplantMismatchTests
{
    private static TempDirectory s_directory = null!;
    private static string s_old = null!;
    private static string s_changed = null!;

    [ClassInitialize]
    public static void WriteResNet(TestContext context)
    {
        s_directory = new TempDirectory();
        var text = File.ReadAllText(Path.Combine(TestPaths.CaffeCorpus, "resnet50.deploy.prototxt"));
        s_old = s_directory.WriteText("resnet50.prototxt", text);
        CaffeSyntheticWeights.Write(ModelFormats.Read(s_old), Path.ChangeExtension(s_old, ".caffemodel"), new SyntheticWeightsOptions { Seed = 5 });
        var layer = text.IndexOf("name: \"res5c_branch2a\"", StringComparison.Ordinal);
        var filters = text.IndexOf("num_output: 512", layer, StringComparison.Ordinal);
        s_changed = s_directory.WriteText("resnet50_thin.prototxt", text[..filters] + "num_output: 256" + text[(filters + "num_output: 512".Length)..]);
    }

    [ClassCleanup]
    public static void Cleanup() => s_directory.Dispose();

    private static (TransplantResult Result, Dictionary<string, CaffemodelWire.Layer> Written) Run(string name, bool allowPartial)
    {
        var output = s_directory.Combine(name);
        using var set = OutputSet.Begin(output);
        var result = Transplant.Run(new TransplantRequest { FromDefinition = s_old, ToDefinition = s_changed, AllowPartial = allowPartial }, set);
        set.Commit();
        return (result, CaffemodelWire.Read(Path.Combine(output, "resnet50_thin.caffemodel")));
    }

    private static readonly string[] s_changedLayers = ["res5c_branch2a", "bn5c_branch2a", "scale5c_branch2a", "res5c_branch2b"];

    [TestMethod]
    public void A_changed_layer_is_reported_with_both_shapes_and_nothing_of_it_is_copied()
    {
        var (result, written) = Run("strict", allowPartial: false);

        var old = CaffemodelWire.Read(Path.ChangeExtension(s_old, ".caffemodel"));
        CollectionAssert.AreEquivalent(s_changedLayers, result.Layers.Where(l => l.Outcome == LayerOutcome.Mismatched).Select(l => l.Name).ToList());
        var warning = result.Warnings.Single(w => w.Code == "NM2050" && w.Message.Contains("'res5c_branch2a'", StringComparison.Ordinal));
        StringAssert.Contains(warning.Message, "256x2048x1x1 in the new model and 512x2048x1x1 in the old one");
        StringAssert.Contains(result.Warnings.Single(w => w.Message.Contains("'res5c_branch2b'", StringComparison.Ordinal)).Message, "512x256x3x3 in the new model and 512x512x3x3");

        // The deploy prototxt states no filler: Caffe's default, constant 0, not the old values.
        Assert.IsTrue(written["res5c_branch2a"].Blobs[0].Data.All(v => v == 0));
        CollectionAssert.AreEqual(new long[] { 256, 2048, 1, 1 }, written["res5c_branch2a"].Blobs[0].Shape);
        Assert.IsTrue(written["res5c_branch2b"].Blobs[0].Data.All(v => v == 0));
        foreach (var name in old.Keys.Except(s_changedLayers))
        {
            CollectionAssert.AreEqual(old[name].Blobs[0].Encoded, written[name].Blobs[0].Encoded, name);
        }

        StringAssert.Contains(TransplantReport.Text(result), "| res5c_branch2a | Convolution | mismatched (not copied) | res5c_branch2a | 524,288 | 0 | Conv[1] 256x2048x1x1 (old 512x2048x1x1): constant 0 (no filler given) |");
    }

    [TestMethod]
    public void Allow_partial_copies_the_overlapping_channels_and_says_so()
    {
        var (result, written) = Run("partial", allowPartial: true);

        var old = CaffemodelWire.Read(Path.ChangeExtension(s_old, ".caffemodel"));
        // res5c_branch2a: the first 256 of 512 filters, each 2048 values, in order.
        var oldFilters = old["res5c_branch2a"].Blobs[0].Data;
        CollectionAssert.AreEqual(oldFilters[..(256 * 2048)], written["res5c_branch2a"].Blobs[0].Data);
        // res5c_branch2b: all 512 filters, each its first 256 input channels of 3x3.
        var oldB = old["res5c_branch2b"].Blobs[0].Data;
        var newB = written["res5c_branch2b"].Blobs[0].Data;
        for (var filter = 0; filter < 512; filter += 97)
        {
            CollectionAssert.AreEqual(oldB[(filter * 512 * 9)..((filter * 512 * 9) + (256 * 9))], newB[(filter * 256 * 9)..((filter + 1) * 256 * 9)], $"filter {filter}");
        }

        // Scale gamma: the first 256 of 512 per-channel factors.
        CollectionAssert.AreEqual(old["scale5c_branch2a"].Blobs[0].Data[..256], written["scale5c_branch2a"].Blobs[0].Data);
        CollectionAssert.AreEquivalent(s_changedLayers, result.Layers.Where(l => l.Outcome == LayerOutcome.CopiedInPart).Select(l => l.Name).ToList());
        Assert.AreEqual(256L * 256 * 9 * 2, result.Layers.Single(l => l.Name == "res5c_branch2b").CopiedValues);
        Assert.AreEqual(4, result.Warnings.Count(w => w.Code == "NM2051"));
    }
}
