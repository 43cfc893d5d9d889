using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

/// <summary>Every corpus prototxt goes through inspect's path (registry → cost model → every report format).</summary>
[TestClass]
public sealed class CaffeCorpusTests
{
    public static IEnumerable<object[]> CorpusFiles => PrototxtTests.CorpusFiles;

    [TestMethod]
    [DynamicData(nameof(CorpusFiles))]
    public void Every_corpus_prototxt_is_analysed_with_positive_shapes(string file)
    {
        var model = ModelFormats.Read(Path.Combine(TestPaths.CaffeCorpus, file));
        Assert.AreEqual("caffe", model.Format);
        var report = CostModel.Analyze(model);
        Assert.IsGreaterThan(0L, report.Totals.Macc);
        Assert.IsGreaterThan(0L, report.PeakActivationBytes);
        foreach (var layer in report.Layers)
        {
            Assert.IsTrue(Shape.Parse(PadTo4(layer.OutputShape)).IsPositive, $"{layer.Name}: {layer.OutputShape}");
            Assert.IsGreaterThan(0, layer.Location.Line, layer.Name);
        }

        foreach (var format in ReportFormatter.Formats)
        {
            Assert.IsFalse(string.IsNullOrEmpty(ReportFormatter.Format(report, format)));
        }

        // Every included layer is reported once (Input layers make no node).
        var document = (CaffeModel)model.SourceDocument!;
        Assert.HasCount(document.Layers.Count(l => l.Node is not null), report.Layers);
    }

    [TestMethod]
    [DataRow("mobilenet_ssd.deploy.prototxt")]
    [DataRow("mobilenet_ssd_voc.deploy.prototxt")]
    public void MobileNet_SSD_heads_have_the_hand_counted_prior_and_detection_shapes(string file)
    {
        var report = CostModel.Analyze(ModelFormats.Read(Path.Combine(TestPaths.CaffeCorpus, file)));
        string ShapeOf(string name) => report.Layers.Single(l => l.Name == name).OutputShape;

        // Feature maps 19, 10, 5, 3, 2, 1 at 300x300. conv11 has min_size only and ratio 2 flipped:
        // {1, 2, 1/2} = 3 boxes; the others add ratio 3 flipped and a max_size box: 5 + 1 = 6.
        Assert.AreEqual($"1x2x{19 * 19 * 3 * 4}", ShapeOf("conv11_mbox_priorbox"));
        Assert.AreEqual($"1x2x{10 * 10 * 6 * 4}", ShapeOf("conv13_mbox_priorbox"));
        Assert.AreEqual($"1x2x{1 * 1 * 6 * 4}", ShapeOf("conv17_2_mbox_priorbox"));
        var boxes = (19 * 19 * 3) + (10 * 10 * 6) + (5 * 5 * 6) + (3 * 3 * 6) + (2 * 2 * 6) + (1 * 1 * 6);
        Assert.AreEqual(1917, boxes);
        Assert.AreEqual($"1x2x{boxes * 4}", ShapeOf("mbox_priorbox"));
        Assert.AreEqual($"1x{boxes * 4}", ShapeOf("mbox_loc"));
        Assert.AreEqual($"1x{boxes}x21", ShapeOf("mbox_conf_reshape"));
        Assert.AreEqual($"1x{boxes * 21}", ShapeOf("mbox_conf_flatten"));

        // keep_top_k: 100 detections of (image, label, score, 4 corners).
        Assert.AreEqual("1x1x100x7", ShapeOf("detection_out"));
        Assert.AreEqual(0L, report.Layers.Single(l => l.Name == "detection_out").Cost.Macc);
        Assert.AreEqual(0L, report.Layers.Where(l => l.Kind == "PriorBox").Sum(l => l.Cost.Macc + l.Cost.Params));
    }

    private static string PadTo4(string shape)
    {
        var dims = shape.Split('x').ToList();
        while (dims.Count < 4)
        {
            dims.Add("1");
        }

        return string.Join('x', dims);
    }
}
