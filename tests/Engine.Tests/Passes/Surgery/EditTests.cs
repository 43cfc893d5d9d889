using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Passes.Surgery;

/// <summary>Cut and rename (issue 15): the written model read back, its outputs run against the source's values of those names.</summary>
[TestClass]
public sealed class EditTests
{
    [TestMethod]
    public void Mobilenet_ssd_cut_before_detection_output_delivers_the_originals_blobs()
    {
        using var fixture = new DarknetFixture();
        var prototxt = SurgeryModels.CaffeCorpus(fixture, "mobilenet_ssd.deploy.prototxt", seed: 6);
        string[] wanted = ["mbox_loc", "mbox_conf_flatten", "mbox_priorbox"];
        var result = SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { Outputs = wanted });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        var (before, after) = SurgeryModels.ReadBoth(prototxt, result);
        CollectionAssert.AreEquivalent(wanted, after.Graph.Outputs);
        Assert.DoesNotContain("DetectionOutput", File.ReadAllText(result.OptimizedDefinitionPath));
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 5);
        foreach (var output in wanted)
        {
            // The same graph up to these blobs: the same values, bit for bit.
            CollectionAssert.AreEqual(SurgeryModels.Run(before, input, output), SurgeryModels.Run(after, input, output), output);
        }
    }

    [TestMethod]
    public void A_caffe_rename_changes_the_layer_and_blob_in_both_files()
    {
        using var fixture = new DarknetFixture();
        var prototxt = SurgeryModels.CaffeCorpus(fixture, "mobilenet_v1.deploy.prototxt", seed: 8);
        var result = SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { Renames = [("conv1", "stem"), ("prob", "scores")] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        var (before, after) = SurgeryModels.ReadBoth(prototxt, result);
        Assert.IsTrue(after.Graph.Nodes.Any(n => n.Name == "stem" && n.OpType == "Conv"));
        Assert.IsFalse(after.Graph.Nodes.Any(n => n.Name == "conv1"));
        CollectionAssert.AreEqual(new[] { "scores" }, after.Graph.Outputs);

        // The caffemodel, read as a plain protobuf message: the conv's blobs now under the new name.
        var caffemodel = NetParameter.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedWeightsPath));
        var names = caffemodel.Layer.Select(l => l.Name).Concat(caffemodel.Layers.Select(l => l.Name)).ToList();
        CollectionAssert.Contains(names, "stem");
        CollectionAssert.DoesNotContain(names, "conv1");

        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 2);
        CollectionAssert.AreEqual(SurgeryModels.Run(before, input, "prob"), SurgeryModels.Run(after, input, "scores"));
    }

    [TestMethod]
    public void An_unknown_layer_is_NM0364()
    {
        using var fixture = new DarknetFixture();
        var prototxt = SurgeryModels.CaffeCorpus(fixture, "mobilenet_ssd.deploy.prototxt", seed: 6);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.UnknownEditTarget, () => SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { Outputs = ["mbox_loc", "mbox_conf_flat"] }));
        StringAssert.Contains(error.Message, "'mbox_conf_flat'");
        DiagnosticAssert.Throws(DiagnosticCodes.UnknownEditTarget, () => SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { Renames = [("conv99", "x")] }));
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidEdit, () => SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { Renames = [("conv0", "conv1")] }));
        Assert.IsFalse(File.Exists(Path.Combine(fixture.Folder, "out", "mobilenet_ssd.deploy.prototxt")), "nothing is written");
    }

    [TestMethod]
    public void Darknet_layers_have_no_names_to_rename_but_are_cut_by_index()
    {
        using var fixture = new DarknetFixture();
        var cfg = SurgeryModels.DarknetCorpus(fixture, "yolov3-tiny.cfg", seed: 2);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.RenameNotExpressible, () => SurgeryModels.Edit(fixture, cfg, new ModelSurgery { Renames = [("15", "head")] }));
        StringAssert.Contains(error.Message, "Darknet layers have no names");

        // yolov3-tiny: layer 15 is the first head's conv, 16 its [yolo]; everything after 15 goes.
        var result = SurgeryModels.Edit(fixture, cfg, new ModelSurgery { RemoveAfter = "15" });
        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        Assert.DoesNotContain("[yolo]", text);
        Assert.DoesNotContain("[upsample]", text);
        var after = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath });
        Assert.AreEqual(16, after.LayerCount);
    }
}
