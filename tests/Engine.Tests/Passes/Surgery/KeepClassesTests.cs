using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Execution;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Passes.Surgery;

/// <summary>
/// The class subset (issue 15): the edited model written, read back and run, against the original
/// run by an independent party (libdarknet for Darknet; for Caffe the reference executor on the
/// untouched source), each kept channel compared with the channel of the original it stands for.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class KeepClassesTests
{
    private const string CocoNames = "/usr/share/darknet/data/coco.names";
    private const string VocNames = "/usr/share/darknet/data/voc.names";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Yolov3_tiny_from_80_coco_to_20_voc_classes_computes_the_kept_channels_in_libdarknet()
    {
        using var fixture = new DarknetFixture();
        var model = DarknetTestModel.Create(TestPaths.Corpus("yolov3-tiny.cfg"), fixture.Folder, seed: 20261205);
        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = model.Cfg,
            WeightsPath = model.Weights,
            FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
            Fold = false,
            Verify = VerifyMode.None,
            Surgery = new ModelSurgery { KeepClasses = ModelSurgery.ClassesByName(CocoNames, VocNames) },
            OutputDirectory = Path.Combine(fixture.Folder, "voc"),
        });

        var cfg = File.ReadAllLines(result.OptimizedDefinitionPath);
        Assert.AreEqual(2, cfg.Count(l => l == "filters=75"), "both heads' convolutions: 3 anchors x (20 classes + 5)");
        Assert.AreEqual(0, cfg.Count(l => l == "filters=255"));
        Assert.AreEqual(2, cfg.Count(l => l == "classes=20"));

        // The COCO index of each VOC name, found here from the two names files.
        var coco = File.ReadAllLines(CocoNames).ToList();
        var kept = File.ReadAllLines(VocNames).Select(name => coco.IndexOf(name)).Order().ToList();
        Assert.DoesNotContain(-1, kept, "every VOC name is a COCO name");
        var keptChannels = Enumerable.Range(0, 3).SelectMany(anchor => Enumerable.Range(0, 5).Concat(kept.Select(k => 5 + k)).Select(c => (anchor * 85) + c)).ToList();

        var original = DarknetHarness.Run(model.Cfg, model.Weights, model.Input, fixture.Folder);
        var edited = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, model.Input, fixture.Folder);
        foreach (var (layer, side) in new[] { (16, 13), (23, 26) })
        {
            var cells = side * side;
            Assert.HasCount(255 * cells, original[layer]);
            Assert.HasCount(75 * cells, edited[layer], $"layer {layer} [yolo] output size");
            for (var j = 0; j < keptChannels.Count; j++)
            {
                for (var p = 0; p < cells; p++)
                {
                    var expected = original[layer][(keptChannels[j] * cells) + p];
                    var actual = edited[layer][(j * cells) + p];
                    Assert.IsLessThanOrEqualTo(1e-6 + (1e-5 * Math.Abs(expected)), Math.Abs(actual - expected), $"layer {layer}, channel {j} (original {keptChannels[j]}), cell {p}");
                }
            }
        }
    }

    /// <summary>
    /// yolov2-tiny-voc's [region] applies a softmax over each anchor's 20 classes: in libdarknet's output
    /// of the cut model the boxes and objectness are the original's, and each kept class's probability
    /// is the original's divided by the kept classes' total (the softmax over fewer logits).
    /// </summary>
    [TestMethod]
    public void A_region_head_keeps_its_boxes_and_renormalises_its_kept_classes_in_libdarknet()
    {
        using var fixture = new DarknetFixture();
        var model = DarknetTestModel.Create(TestPaths.Corpus("yolov2-tiny-voc.cfg"), fixture.Folder, seed: 31);
        long[] kept = [6, 11, 14];
        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = model.Cfg,
            WeightsPath = model.Weights,
            FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
            Fold = false,
            Surgery = new ModelSurgery { KeepClasses = kept },
            OutputDirectory = Path.Combine(fixture.Folder, "cut"),
        });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        Assert.IsTrue(result.Warnings.Any(w => w.Code == "NM2040"));
        var cfg = File.ReadAllLines(result.OptimizedDefinitionPath);
        Assert.AreEqual(1, cfg.Count(l => l.Replace(" ", string.Empty, StringComparison.Ordinal) == "filters=40"), "5 anchors x (4 + 1 + 3 classes)");
        Assert.AreEqual(1, cfg.Count(l => l.Replace(" ", string.Empty, StringComparison.Ordinal) == "classes=3"));

        var original = DarknetHarness.Run(model.Cfg, model.Weights, model.Input, fixture.Folder);
        var edited = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, model.Input, fixture.Folder);
        const int Region = 15, Cells = 13 * 13, Anchors = 5;
        Assert.HasCount(Anchors * 25 * Cells, original[Region]);
        Assert.HasCount(Anchors * 8 * Cells, edited[Region]);
        for (var a = 0; a < Anchors; a++)
        {
            for (var p = 0; p < Cells; p++)
            {
                float Before(long entry) => original[Region][(((a * 25) + entry) * Cells) + p];
                float After(long entry) => edited[Region][(((a * 8) + entry) * Cells) + p];
                for (var entry = 0; entry < 5; entry++)
                {
                    Assert.IsLessThanOrEqualTo(1e-6 + (1e-5 * Math.Abs(Before(entry))), Math.Abs(After(entry) - Before(entry)), $"anchor {a}, box entry {entry}, cell {p}");
                }

                var total = kept.Sum(k => (double)Before(5 + k));
                for (var k = 0; k < kept.Length; k++)
                {
                    var expected = Before(5 + kept[k]) / total;
                    Assert.IsLessThanOrEqualTo(1e-6 + (1e-4 * expected), Math.Abs(After(5 + k) - expected), $"anchor {a}, class {kept[k]}, cell {p}");
                }
            }
        }
    }

    [TestMethod]
    public void Mobilenet_ssd_from_21_to_3_classes_keeps_the_scores_of_the_kept_classes()
    {
        using var fixture = new DarknetFixture();
        var prototxt = SurgeryModels.CaffeCorpus(fixture, "mobilenet_ssd_voc.deploy.prototxt", seed: 15);
        var result = SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { KeepClasses = [7, 15] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        Assert.IsTrue(result.Warnings.Any(w => w.Code == "NM2041"), "the background class was added");
        Assert.IsTrue(result.Warnings.Any(w => w.Code == "NM2040"), "the softmax renormalises");

        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        StringAssert.Contains(text, "num_classes: 3");
        StringAssert.Contains(text, "dim: 3\n");
        Assert.DoesNotContain("num_output: 126", text);

        // mbox_conf is, per prior box, the 21 class scores; the kept classes are 0 (background), 7 and 15.
        var (before, after) = SurgeryModels.ReadBoth(prototxt, result);
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 3);
        var expected = SurgeryModels.Run(before, input, "mbox_conf");
        var actual = SurgeryModels.Run(after, input, "mbox_conf");
        int[] classes = [0, 7, 15];
        var boxes = expected.Length / 21;
        Assert.HasCount(boxes * 3, actual);
        for (var box = 0; box < boxes; box++)
        {
            for (var k = 0; k < classes.Length; k++)
            {
                var want = expected[(box * 21) + classes[k]];
                Assert.IsLessThanOrEqualTo(1e-5 + (1e-4 * Math.Abs(want)), Math.Abs(actual[(box * 3) + k] - want), $"box {box}, class {classes[k]}");
            }
        }

        Assert.AreEqual(3L, after.Graph.Nodes.Single(n => n.OpType == "DetectionOutput").AttributesAs<DetectionOutputAttributes>().NumClasses);
    }

    [TestMethod]
    public void A_caffe_classifier_keeps_the_logits_of_its_kept_classes()
    {
        using var fixture = new DarknetFixture();
        var prototxt = SurgeryModels.CaffeCorpus(fixture, "mobilenet_v1.deploy.prototxt", seed: 4);
        var result = SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { KeepClasses = [1, 281, 999] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        var (before, after) = SurgeryModels.ReadBoth(prototxt, result);
        var classifier = before.Graph.Nodes.Last(n => n.OpType is "Conv" or "FullyConnected");
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 9);
        var expected = SurgeryModels.Run(before, input, classifier.Outputs[0]);
        var actual = SurgeryModels.Run(after, input, classifier.Outputs[0]);
        Assert.HasCount(1000, expected);
        int[] kept = [1, 281, 999];
        Assert.HasCount(3, actual);
        for (var k = 0; k < kept.Length; k++)
        {
            Assert.IsLessThanOrEqualTo(1e-5 + (1e-4 * Math.Abs(expected[kept[k]])), Math.Abs(actual[k] - expected[kept[k]]), $"class {kept[k]}");
        }

        Assert.HasCount(3, SurgeryModels.Run(after, input, after.Graph.Outputs.Single()));
    }

    [TestMethod]
    public void A_class_the_model_does_not_have_is_NM0361()
    {
        using var fixture = new DarknetFixture();
        var cfg = SurgeryModels.DarknetCorpus(fixture, "yolov3-tiny.cfg", seed: 1);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.ClassOutOfRange, () => SurgeryModels.Edit(fixture, cfg, new ModelSurgery { KeepClasses = [3, 80] }));
        StringAssert.Contains(error.Message, "class 80 is not one of the model's 80 classes");
        Assert.IsFalse(File.Exists(Path.Combine(fixture.Folder, "out", "yolov3-tiny.cfg")), "nothing is written");
    }

    [TestMethod]
    public void A_head_that_cannot_be_cut_refuses_the_whole_subset_with_NM0362()
    {
        // Two [yolo] heads of 2 classes: the first reads its conv, the second a maxpool of its conv (no
        // weights whose rows are its channels). Cutting only the first would leave a half-edited detector.
        const string Cfg = """
            [net]
            width=8
            height=8
            channels=3

            [convolutional]
            filters=8
            size=1
            stride=1
            activation=leaky

            [convolutional]
            filters=21
            size=1
            stride=1
            activation=linear

            [yolo]
            mask=0,1,2
            anchors=1,1, 2,2, 3,3
            classes=2
            num=3

            [route]
            layers=0

            [convolutional]
            filters=21
            size=1
            stride=1
            activation=linear

            [maxpool]
            size=2
            stride=1

            [yolo]
            mask=0,1,2
            anchors=1,1, 2,2, 3,3
            classes=2
            num=3

            """;
        using var fixture = new DarknetFixture();
        var cfg = Path.Combine(fixture.Folder, "two-heads.cfg");
        File.WriteAllText(cfg, Cfg);
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 3 });

        var error = DiagnosticAssert.Throws(DiagnosticCodes.NoClassHead, () => SurgeryModels.Edit(fixture, cfg, new ModelSurgery { KeepClasses = [1] }));
        StringAssert.Contains(error.Message, "1 of the 2 class head(s) can be cut");
        StringAssert.Contains(error.Message, "is not made by a convolution");
        Assert.IsFalse(File.Exists(Path.Combine(fixture.Folder, "out", "two-heads.cfg")), "nothing is written");
    }

    [TestMethod]
    public void An_unknown_class_name_is_NM0363_at_its_line()
    {
        using var fixture = new DarknetFixture();
        var keep = Path.Combine(fixture.Folder, "keep.txt");
        File.WriteAllText(keep, "person\n\n  aeroplan\n");
        var error = DiagnosticAssert.Throws(DiagnosticCodes.UnknownClassName, () => ModelSurgery.ClassesByName(CocoNames, keep));
        Assert.AreEqual(keep, error.Location.File);
        Assert.AreEqual(3, error.Location.Line);
        Assert.AreEqual(3, error.Location.Column);
    }

    [TestMethod]
    [DataRow("1,x")]
    [DataRow("2,2")]
    [DataRow("-1")]
    [DataRow(" , ")]
    public void A_malformed_class_list_is_NM0360(string text) =>
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidClassSelection, () => ModelSurgery.ParseClasses(text, SourceLocation.None));

    [TestMethod]
    public void Class_lists_are_sorted_and_read_with_spaces() =>
        CollectionAssert.AreEqual(new long[] { 0, 7, 15 }, ModelSurgery.ParseClasses(" 15, 0;7 ", SourceLocation.None).ToArray());
}
