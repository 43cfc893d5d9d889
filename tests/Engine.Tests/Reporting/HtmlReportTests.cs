using System.Globalization;
using System.Text.Json;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Profiling;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Reporting;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Reporting;

/// <summary>The HTML report read back as a document: one box per layer, edges between existing boxes, no overlaps, charts, budgets, the optimisation, and model text escaped.</summary>
[TestClass]
public sealed class HtmlReportTests
{
    private static ModelReport Analyze(string path) => CostModel.Analyze(ModelFormats.Read(path));

    private static ReportDocument Render(HtmlReportInput input) => new(HtmlReport.Render(input));

    public static IEnumerable<object[]> Models =>
    [
        [TestPaths.Corpus("yolov3.cfg")],
        [Path.Combine(TestPaths.CaffeCorpus, "resnet50.deploy.prototxt")],
        [Path.Combine(TestPaths.CaffeCorpus, "mobilenet_ssd.deploy.prototxt")],
    ];

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void The_graph_has_one_box_per_layer_no_two_overlapping_and_every_edge_joins_two_boxes(string path)
    {
        var report = Analyze(path);
        var document = Render(new HtmlReportInput { Model = report });

        var boxes = document.Boxes();
        CollectionAssert.AreEquivalent(report.Layers.Select(l => l.Index).ToList(), boxes.Select(b => b.Index).ToList());
        var indices = boxes.Select(b => b.Index).ToHashSet();
        var edges = document.Edges();
        Assert.IsNotEmpty(edges);
        foreach (var (from, to) in edges)
        {
            Assert.IsTrue(indices.Contains(from) && indices.Contains(to), $"edge {from} -> {to} joins a box that is not drawn");
        }

        CollectionAssert.AreEquivalent(report.Layers.SelectMany(l => l.InputLayers.Select(i => (i, l.Index))).ToList(), edges.ToList());
        var byRow = boxes.GroupBy(b => b.Y).ToList();
        foreach (var row in byRow)
        {
            var ordered = row.OrderBy(b => b.X).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                Assert.IsLessThanOrEqualTo(ordered[i].X, ordered[i - 1].X + ordered[i - 1].Width, $"boxes {ordered[i - 1].Index} and {ordered[i].Index} overlap");
            }
        }

        var rowHeight = boxes[0].Height;
        var tops = byRow.Select(r => r.Key).Order().ToList();
        for (var i = 1; i < tops.Count; i++)
        {
            Assert.IsGreaterThan(rowHeight, tops[i] - tops[i - 1], "rows overlap");
        }
    }

    [TestMethod]
    public void Yolov3s_route_and_shortcut_layers_are_drawn_with_an_edge_from_each_layer_they_read()
    {
        // yolov3.cfg: layer 86 is [route] layers = -1, 61 (85 and 61); layer 4 is [shortcut] from=-3 (3 and 1).
        var document = Render(new HtmlReportInput { Model = Analyze(TestPaths.Corpus("yolov3.cfg")) });
        var edges = document.Edges();

        CollectionAssert.IsSubsetOf(new[] { (85, 86), (61, 86), (3, 4), (1, 4) }, edges.ToList());
        Assert.AreEqual(2, edges.Count(e => e.To == 86));
    }

    [TestMethod]
    public void Four_charts_have_a_bar_per_layer_and_mark_where_live_activations_peak()
    {
        var report = Analyze(Path.Combine(TestPaths.CaffeCorpus, "resnet50.deploy.prototxt"));
        var document = Render(new HtmlReportInput { Model = report });

        var charts = document.WithClass("svg", "chart").ToList();
        CollectionAssert.AreEqual(new[] { "macc", "params", "activation", "memory" }, charts.Select(c => (string?)c.Attribute("data-metric")).ToArray());
        foreach (var chart in charts)
        {
            var bars = chart.Elements().Where(e => e.Name.LocalName == "rect" && (string?)e.Attribute("class") == "bar").ToList();
            Assert.HasCount(report.Layers.Count, bars);
            var mark = chart.Elements().Single(e => (string?)e.Attribute("class") == "peak-mark");
            var peakBar = bars.Single(b => (string?)b.Attribute("data-index") == report.PeakLayerIndex.ToString(CultureInfo.InvariantCulture));
            var x = double.Parse((string)mark.Attribute("x1")!, CultureInfo.InvariantCulture);
            var left = double.Parse((string)peakBar.Attribute("x")!, CultureInfo.InvariantCulture);
            var slot = (1000.0 - 64 - 10) / report.Layers.Count;
            Assert.IsTrue(x >= left && x <= left + slot, $"the peak mark at {x} is not over layer {report.PeakLayerIndex}'s bar at {left}");
        }

        // The tallest MACC bar is the costliest layer's, found here from the figures themselves.
        var costliest = report.Layers.MaxBy(l => l.Cost.Macc)!;
        var maccBars = charts[0].Elements().Where(e => (string?)e.Attribute("class") == "bar").ToList();
        var tallest = maccBars.MaxBy(b => double.Parse((string)b.Attribute("height")!, CultureInfo.InvariantCulture))!;
        Assert.AreEqual(costliest.Index.ToString(CultureInfo.InvariantCulture), (string?)tallest.Attribute("data-index"));
    }

    private const string EvilName = "<script>alert('x')</script>&amp;\"";

    /// <summary>A 3x3 convolution, 3 to 4 channels on 8x8 (pad 1), then a ReLU: 4*8*8 outputs of 3*3*3 multiply-adds each, 6,912 MACC.</summary>
    private static string TinyCaffeModel(TempDirectory temp, string convName = "conv") =>
        temp.WriteText("tiny.prototxt", $$"""
            name: "tiny"
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "{{convName.Replace("\"", "\\\"", StringComparison.Ordinal)}}" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
            layer { name: "relu</title></g><g class=\"layer\">" type: "ReLU" bottom: "c" top: "c" }
            """);

    private const long TinyMacc = 4 * 8 * 8 * 3 * 3 * 3;

    [TestMethod]
    public void Layer_names_from_the_model_are_text_never_markup()
    {
        using var temp = new TempDirectory();
        var report = Analyze(TinyCaffeModel(temp, EvilName));

        var document = Render(new HtmlReportInput { Model = report });

        Assert.DoesNotContain("<script>alert", document.Html);
        Assert.DoesNotContain("</title></g><g", document.Html);
        Assert.HasCount(2, document.WithClass("g", "layer").ToList(), "the ReLU's name adds no box");
        var title = document.ById("layer-0").Elements().Single(e => e.Name.LocalName == "title").Value;
        Assert.Contains(EvilName, title, "shown as the text it is");
        using var data = JsonDocument.Parse(document.ById("layer-data").Value);
        Assert.AreEqual(EvilName, data.RootElement.GetProperty("layers")[0].GetProperty("name").GetString());
        Assert.AreEqual(2, document.All("script").Count(), "the model added no script element");
    }

    private static BudgetSettings Budgets(params (string Setting, string Value)[] values)
    {
        var errors = new List<Diagnostic>();
        var settings = BudgetSettings.Parse(name => values.FirstOrDefault(v => v.Setting == name).Value, SourceLocation.None, errors);
        Assert.IsEmpty(errors);
        return settings;
    }

    [TestMethod]
    public void A_budget_row_shows_how_much_of_the_budget_is_used_and_the_margin_left()
    {
        using var temp = new TempDirectory();
        var report = Analyze(TinyCaffeModel(temp));
        Assert.AreEqual(TinyMacc, report.Totals.Macc);

        var within = Render(new HtmlReportInput { Model = report, Budgets = Budgets(("MaxMacc", (2 * TinyMacc).ToString(CultureInfo.InvariantCulture))) }).Row("budgets", "MACC");
        Assert.AreEqual("ok", within.Class);
        Assert.AreEqual("50.0%", within.Cells[3]);

        var over = Render(new HtmlReportInput { Model = report, Budgets = Budgets(("MaxMacc", "6000")) }).Row("budgets", "MACC");
        Assert.AreEqual("fail", over.Class);
        Assert.AreEqual("-912 MAC", over.Cells[4], "6,000 - 6,912");

        var warned = Render(new HtmlReportInput { Model = report, Budgets = Budgets(("MaxMacc", "7000"), ("WarnMacc", "6500")) }).Row("budgets", "MACC");
        Assert.AreEqual("warn", warned.Class);
        Assert.AreEqual("+88 MAC", warned.Cells[4], "7,000 - 6,912");
    }

    [TestMethod]
    public void The_baseline_figures_stand_beside_the_current_ones_with_the_change()
    {
        using var temp = new TempDirectory();
        var report = Analyze(TinyCaffeModel(temp));
        var baseline = new BaselineEntry("tiny.prototxt", null, new Dictionary<string, long> { ["macc"] = 6000 }, "2026-01-01", "first release");

        var row = Render(new HtmlReportInput { Model = report, Baseline = baseline, Budgets = Budgets(("MaxMaccIncrease", "+10%")) }).Row("budgets", "MACC");

        Assert.AreEqual("6 kMAC", row.Cells[6]);
        Assert.AreEqual("+912 (+15.2%)", row.Cells[7], "912 / 6,000");
        Assert.AreEqual("fail", row.Class, "15.2% is over the 10% allowed");
    }

    [TestMethod]
    public void The_layers_that_changed_against_the_baseline_are_listed_as_diff_pairs_them()
    {
        using var temp = new TempDirectory();
        var report = Analyze(TinyCaffeModel(temp));
        var model = report.ModelPath;
        // Accepted: the same conv with 6,000 MACC and 100 params, and a Pooling layer the model no longer has.
        var baseline = new BaselineEntry("tiny.prototxt", null, new Dictionary<string, long> { ["macc"] = 6000 }, null, null)
        {
            Layers =
            [
                new LayerMetrics(0, "Convolution", new SourceLocation(model, 4, 1), 6000, 100, 400, 1024, 2000) { Name = "conv", OutputShape = "1x4x8x8" },
                new LayerMetrics(1, "Pooling", new SourceLocation(model, 6, 1), 0, 0, 0, 64, 256) { Name = "pool", OutputShape = "1x4x4x4" },
            ],
        };

        var document = Render(new HtmlReportInput { Model = report, Baseline = baseline });

        var conv = document.Row("baseline-diff", "changed");
        Assert.AreEqual("conv", conv.Cells[3]);
        Assert.AreEqual("+912", conv.Cells[6], "6,912 - 6,000");
        Assert.AreEqual("+12", conv.Cells[7], "4*3*3*3 + 4 = 112 params, accepted 100");
        CollectionAssert.AreEqual(new[] { "removed", "#1 -> -", "Pooling", "pool" }, document.Row("baseline-diff", "removed").Cells.Take(4).ToArray());
        StringAssert.Contains(document.ById("baseline-changes").Value, "paired by name, then by position and kind");

        var old = Render(new HtmlReportInput { Model = report, Baseline = baseline with { Layers = null } });
        StringAssert.Contains(old.ById("baseline-changes").Value, BaselineChanges.NoLayersNote);
    }

    [TestMethod]
    public void After_fuse_the_report_shows_the_folds_the_removed_layers_and_every_verification_comparison()
    {
        using var temp = new TempDirectory();
        var prototxt = temp.Combine("mobilenet_v1.deploy.prototxt");
        File.Copy(Path.Combine(TestPaths.CaffeCorpus, "mobilenet_v1.deploy.prototxt"), prototxt);
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), Path.ChangeExtension(prototxt, ".caffemodel"), new SyntheticWeightsOptions { Seed = 3 });
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.Layers, OutputDirectory = temp.Combine("out") });

        var document = Render(new HtmlReportInput { Model = result.Before, Optimized = OptimizedModel.From(result) });

        // Counted in the prototxt text: every BatchNorm and Scale is folded away.
        var text = File.ReadAllText(prototxt);
        var folded = (text.Split("type: \"BatchNorm\"").Length - 1) + (text.Split("type: \"Scale\"").Length - 1);
        Assert.IsGreaterThan(20, folded);
        var removedBoxes = document.WithClass("g", "removed").ToList();
        Assert.HasCount(folded, removedBoxes);
        Assert.HasCount(folded, document.WithClass("tr", "removed").ToList(), "one removed row per folded layer in the per-layer table");
        var verificationRows = document.WithClass("table", "verification").Single().Elements().Count(e => e.Name.LocalName == "tr") - 1;
        Assert.AreEqual(result.Verification!.Comparisons.Count, verificationRows);
        Assert.IsGreaterThan(0, verificationRows);
        var appliedRows = document.WithClass("table", "applied").Single().Elements().Skip(1).ToList();
        Assert.AreEqual(result.Passes.Applied.Count(), appliedRows.Sum(r => int.Parse(r.Elements().Last().Value, CultureInfo.InvariantCulture)));
        // The narrow "after" bars: one per layer still there.
        var afterBars = document.ById("chart-macc").Elements().Count(e => (string?)e.Attribute("class") == "bar after");
        Assert.AreEqual(result.Before.Layers.Count - folded, afterBars);
    }

    [TestMethod]
    public void The_measured_time_splits_into_tensor_and_non_tensor_layers_before_and_after_folding()
    {
        using var temp = new TempDirectory();
        var report = Analyze(TinyCaffeModel(temp));
        LayerTiming Timing(int step, string op, LayerCategory category, double ms) =>
            new(step, new LayerOrigin(step, op, op, SourceLocation.None), op, op, category, ms);
        // As read: conv 3 ms, BatchNorm 1 ms (75% / 25%); folded: the conv alone, 3 ms.
        var profile = new ModelProfile(
            report.ModelPath,
            report.InputShape,
            new GraphProfile([Timing(0, "Conv", LayerCategory.Tensor, 3), Timing(1, "BatchNormalization", LayerCategory.NonTensor, 1)], 4.1, 5, 1, 1),
            new GraphProfile([Timing(0, "Conv", LayerCategory.Tensor, 3)], 3.05, 5, 1, 1),
            FoldsApplied: 1);

        var document = Render(new HtmlReportInput { Model = report, Profile = profile });

        CollectionAssert.AreEqual(new[] { "tensor layers", string.Empty, "1", "3", "75.0%", "1", "3", "100.0%" }, document.Row("profile", "tensor layers").Cells);
        CollectionAssert.AreEqual(new[] { "non-tensor layers", string.Empty, "1", "1", "25.0%", "0", "0", "0.0%" }, document.Row("profile", "non-tensor layers").Cells);
        CollectionAssert.AreEqual(new[] { "BatchNormalization", "non-tensor", "1", "1", "25.0%", "-", "-", "-" }, document.Row("profile", "BatchNormalization").Cells);
        CollectionAssert.AreEqual(new[] { "4.1", "3.05" }, document.Row("profile", "whole forward pass").Cells.Where((_, i) => i is 3 or 6).ToArray());
        var segments = document.WithClass("rect", "segment").ToList();
        Assert.HasCount(3, segments, "conv and BatchNorm as read, conv after folding");
    }
}
