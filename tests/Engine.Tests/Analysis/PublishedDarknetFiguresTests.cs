using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>The Darknet figures of docs/metrics.md (published by darknet itself), reproduced.</summary>
[TestClass]
public sealed class PublishedDarknetFiguresTests
{
    [TestMethod]
    [DataRow("yolov3.cfg", null, 65_864_075_264L)]
    [DataRow("yolov3.cfg", "1x3x608x608", 140_691_900_416L)]
    [DataRow("yolov3-tiny.cfg", null, 5_564_961_792L)]
    [DataRow("yolov2-tiny.cfg", null, 5_406_442_496L)]
    [DataRow("yolov4.cfg", null, 128_389_482_496L)]
    [DataRow("yolov4-tiny.cfg", null, 6_907_876_352L)]
    [DataRow("darknet53.cfg", null, 18_570_231_808L)]
    public void Flops_match_the_published_figure(string cfg, string? input, long expectedFlops)
    {
        var model = ModelFormats.Read(TestPaths.Corpus(cfg), new ModelReadOptions { InputShape = input is null ? null : Shape.Parse(input) });
        var report = CostModel.Analyze(model);
        Assert.AreEqual(expectedFlops, report.Totals.Flops);
        Assert.AreEqual(expectedFlops / 2, report.Totals.Macc);
    }

    [TestMethod]
    public void Yolov3_parameter_counts_match_both_published_conventions()
    {
        var report = CostModel.Analyze(ModelFormats.Read(TestPaths.Corpus("yolov3.cfg")));

        // 62,001,757 stored floats including BN statistics; 61,922,845 weights and biases.
        Assert.AreEqual(62_001_757L, report.Totals.Params);
        var bnChannels = report.Layers.Where(l => l.Ops.Contains("BatchNormalization")).Sum(l => Shape.Parse(l.OutputShape).C);
        Assert.AreEqual(61_922_845L, report.Totals.Params - (3 * bnChannels));
    }
}
