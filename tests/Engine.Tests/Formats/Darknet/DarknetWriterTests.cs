using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Passes;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

[TestClass]
public sealed class DarknetWriterTests
{
    [TestMethod]
    [DataRow("yolov3-tiny.cfg")]
    [DataRow("yolov4-tiny.cfg")]
    [DataRow("yolov4-csp.cfg")]
    [DataRow("efficientnet-lite3.cfg")]
    public void Read_then_write_without_passes_reproduces_the_weights_byte_for_byte(string cfg)
    {
        using var fixture = new DarknetFixture();
        var source = TestPaths.Corpus(cfg);
        var weights = Path.Combine(fixture.Folder, "in.weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(source), weights, new SyntheticWeightsOptions { Seed = 3 });
        var model = ModelFormats.Read(source, new ModelReadOptions { WeightsPath = weights });

        var outCfg = Path.Combine(fixture.Folder, "out.cfg");
        var outWeights = Path.Combine(fixture.Folder, "out.weights");
        DarknetWriter.Write(model, outCfg, outWeights);

        CollectionAssert.AreEqual(File.ReadAllBytes(weights), File.ReadAllBytes(outWeights));
        CollectionAssert.AreEqual(File.ReadAllBytes(source), File.ReadAllBytes(outCfg));
    }

    [TestMethod]
    public void Fused_cfg_differs_from_the_original_only_in_batch_normalize_lines()
    {
        using var fixture = new DarknetFixture();
        var source = TestPaths.Corpus("yolov3-tiny.cfg");
        var weights = Path.Combine(fixture.Folder, "in.weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(source), weights, new SyntheticWeightsOptions { Seed = 5 });
        var model = ModelFormats.Read(source, new ModelReadOptions { WeightsPath = weights });
        PassManager.Run(model.Graph);

        var outCfg = Path.Combine(fixture.Folder, "fused.cfg");
        DarknetWriter.Write(model, outCfg, Path.Combine(fixture.Folder, "fused.weights"));

        var before = File.ReadAllLines(source);
        var after = File.ReadAllLines(outCfg);
        Assert.HasCount(before.Length, after);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.HasCount(before.Count(l => l.Trim() == "batch_normalize=1"), changed);
        Assert.IsTrue(changed.All(i => before[i].Trim() == "batch_normalize=1" && after[i].Trim() == "batch_normalize=0"));

        // The written pair reads back: no BatchNorm left, and the weights size is exactly what the new cfg needs
        // (3 floats fewer per folded channel: scales, rolling_mean, rolling_variance).
        var reread = ModelFormats.Read(outCfg, new ModelReadOptions { WeightsPath = Path.Combine(fixture.Folder, "fused.weights") });
        Assert.IsFalse(reread.Graph.Nodes.Any(n => n.OpType == "BatchNormalization"));
        var bnChannels = model.Graph.Nodes.Where(n => n.OpType == "Conv").Sum(n => model.Graph.Initializers[n.Inputs[1]].Shape[0]) - 255 - 255;
        Assert.AreEqual(new FileInfo(weights).Length - (3 * 4 * bnChannels), new FileInfo(Path.Combine(fixture.Folder, "fused.weights")).Length);
    }

    [TestMethod]
    public void Removing_a_dropout_renumbers_later_layer_references()
    {
        using var fixture = new DarknetFixture();
        const string cfg = """
            [net]
            width=4
            height=4
            channels=1

            [convolutional]
            filters=1
            size=1
            activation=leaky

            [dropout]
            probability=.5

            [convolutional]
            filters=1
            size=1
            activation=leaky

            # keeps layer 0 and the conv after the dropout
            [route]
            layers = -1, 0, 2

            [shortcut]
            from=-3
            activation=linear
            """;
        var model = fixture.Create(cfg, [0, 1, 0, 1]);
        PassManager.Run(model.Graph);

        DarknetWriter.Write(model, Path.Combine(fixture.Folder, "out.cfg"), Path.Combine(fixture.Folder, "out.weights"));

        var written = File.ReadAllText(Path.Combine(fixture.Folder, "out.cfg"));
        Assert.DoesNotContain("[dropout]", written);
        Assert.DoesNotContain("probability", written);
        // Old indices: 0 conv, 1 dropout, 2 conv, 3 route, 4 shortcut. New: 0 conv, 1 conv, 2 route, 3 shortcut.
        // route -1 (old 2 → new 1, from new 2: -1), 0 → 0, 2 → 1. shortcut -3 from old 4 = old 1 (the dropout,
        // which passed layer 0 on) → new 0, from new 3: -3.
        StringAssert.Contains(written, "layers = -1,0,1");
        StringAssert.Contains(written, "from=-3");
        StringAssert.Contains(written, "# keeps layer 0 and the conv after the dropout");
        var reread = ModelFormats.Read(Path.Combine(fixture.Folder, "out.cfg"), new ModelReadOptions { WeightsPath = Path.Combine(fixture.Folder, "out.weights") });
        Assert.AreEqual(4, reread.LayerCount);
    }
}
