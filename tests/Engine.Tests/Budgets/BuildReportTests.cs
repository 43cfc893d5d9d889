using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Tests.Budgets;

/// <summary>The build's per-model report and one-line budget summary, on figures written out by hand.</summary>
[TestClass]
public sealed class BuildReportTests
{
    private static readonly ModelMetrics s_metrics = new()
    {
        ModelPath = "/models/net.cfg",
        Totals = new Dictionary<string, long> { ["macc"] = 2_782_480_896, ["params"] = 8_858_734, ["weightsBytes"] = 35_434_936, ["peakActivationBytes"] = 11_075_584, ["memoryAccess"] = 50_000_000, ["flops"] = 5_600_000_000, ["activationBytes"] = 60_000_000 },
        PeakLayerIndex = 1,
        Layers =
        [
            new LayerMetrics(0, "convolutional", new SourceLocation("/models/net.cfg", 9, 1), 2_000_000_000, 8_000_000, 32_000_000, 5_000_000, 40_000_000) { OutputShape = "1x16x416x416", Inputs = [] },
            new LayerMetrics(1, "route", new SourceLocation("/models/net.cfg", 20, 1), 782_480_896, 858_734, 3_434_936, 11_075_584, 10_000_000) { OutputShape = "1x32x208x208", Inputs = [0] },
        ],
    };

    private static BudgetSettings Settings(params (string Name, string Value)[] settings)
    {
        var errors = new List<Diagnostic>();
        var parsed = BudgetSettings.Parse(name => settings.FirstOrDefault(s => s.Name == name).Value, SourceLocation.None, errors);
        Assert.IsEmpty(errors);
        return parsed;
    }

    [TestMethod]
    public void The_summary_says_how_much_of_each_budget_is_used()
    {
        var report = new BuildReport(s_metrics, BudgetMargin.Of(s_metrics, Settings(("MaxMacc", "3G"), ("WarnParams", "8M"))), null, []);

        // 2,782,480,896 / 3,000,000,000 = 92.7%; 8,858,734 / 8,000,000 = 110.7%.
        Assert.AreEqual("MACC 2.78 GMAC of MaxMacc 3G (93%); parameter count 8.86 M of WarnParams 8M (111%)", report.BudgetSummary());
        Assert.AreEqual("no budget set", new BuildReport(s_metrics, [], null, []).BudgetSummary());
    }

    [TestMethod]
    public void A_margin_is_what_is_left_or_the_excess()
    {
        var margins = BudgetMargin.Of(s_metrics, Settings(("MaxMacc", "3G"), ("MaxParams", "8M")));
        Assert.AreEqual(3_000_000_000 - 2_782_480_896, margins[0].Margin);
        Assert.IsFalse(margins[0].Exceeded);
        Assert.AreEqual(8_000_000 - 8_858_734, margins[1].Margin);
        Assert.IsTrue(margins[1].Exceeded);
        Assert.AreEqual(8_858_734 / 8_000_000.0, margins[1].Used!.Value, 1e-12);
    }

    [TestMethod]
    public void The_markdown_has_the_budgets_the_baseline_beside_the_totals_and_a_row_per_layer()
    {
        var baseline = new BaselineEntry("net.cfg", null, new Dictionary<string, long> { ["macc"] = 2_500_000_000, ["params"] = 8_858_734 }, "2026-12-01", "first release");
        var verdict = DiagnosticCodes.BudgetWarning.At(new SourceLocation("/models/net.cfg", 9, 1), "parameter count is over.");
        var markdown = new BuildReport(s_metrics, BudgetMargin.Of(s_metrics, Settings(("WarnParams", "8M"))), baseline, [verdict]).Markdown();

        Assert.Contains("| WarnParams=8M | no (warning) | 8.86 M | 8 M | 111% | **over by 858.7 k** |", markdown);
        // MACC grew by 282,480,896 from 2,500,000,000: +11.3%.
        Assert.Contains("| MACC | 2.78 GMAC | 2,782,480,896 | 2,500,000,000 | +282,480,896 (+11.3%) |", markdown);
        Assert.Contains("| parameter count | 8.86 M | 8,858,734 | 8,858,734 | 0 |", markdown);
        Assert.Contains("Baseline: `net.cfg`, accepted 2026-12-01 (first release).", markdown);
        Assert.Contains("- /models/net.cfg(9,1): warning NM2001: parameter count is over.", markdown);
        Assert.Contains("| 0 | convolutional |  | 9 | 1x16x416x416 | input | 2 G | 71.9% |", markdown);
        Assert.Contains("| 1 | route (peak activation) |  | 20 | 1x32x208x208 | 0 | 782.5 M | 28.1% |", markdown);
    }

    [TestMethod]
    public void The_markdown_lists_the_layers_that_changed_against_the_baseline_and_says_when_it_cannot()
    {
        // Accepted: layer 0 as now but 16 filters narrower in MACC and params, layer 1 a removed [maxpool];
        // the current route (layer 1) is then added.
        var acceptedLayers = new List<LayerMetrics>
        {
            s_metrics.Layers[0] with { Macc = 1_500_000_000, Params = 6_000_000, OutputShape = "1x12x416x416" },
            new(1, "maxpool", new SourceLocation("/models/net.cfg", 20, 1), 0, 0, 0, 1_000, 2_000),
        };
        var baseline = new BaselineEntry("net.cfg", null, new Dictionary<string, long> { ["macc"] = 1_500_000_000 }, null, null) { Layers = acceptedLayers };
        var markdown = new BuildReport(s_metrics, [], baseline, []).Markdown();

        var section = markdown[markdown.IndexOf("## Changes against the baseline", StringComparison.Ordinal)..markdown.IndexOf("## Verdicts", StringComparison.Ordinal)];
        Assert.Contains("3 of 3 layers differ from the baseline (1 changed, 1 added, 1 removed)", section);
        // 2,000,000,000 - 1,500,000,000 MACC; 8,000,000 - 6,000,000 params.
        Assert.Contains("| changed | #0 -> #0 | convolutional |  | 9 | 1x12x416x416 -> 1x16x416x416 | +500,000,000 | +2,000,000 | 0 | 0 | 0 |", section);
        Assert.Contains("| removed | #1 -> - | maxpool |  | 20 | ", section);
        Assert.Contains("| added | - -> #1 | route |  | 20 | 1x32x208x208 | +782,480,896 | +858,734 | +3,434,936 | +11,075,584 | +10,000,000 |", section);

        var old = new BuildReport(s_metrics, [], baseline with { Layers = null }, []).Markdown();
        Assert.Contains("## Changes against the baseline\n\n" + BaselineChanges.NoLayersNote, old);
        Assert.DoesNotContain("## Changes against the baseline", new BuildReport(s_metrics, [], null, []).Markdown());
    }

    [TestMethod]
    public void The_accuracy_section_says_what_the_errors_were_measured_on_and_keeps_it_through_the_metrics_file()
    {
        var accuracy = new ModelAccuracy("int8 (per-channel asymmetric)", [new OutputError("out", 0.0123, 0.004, null)]) { MeasuredOn = "3 input file(s) in /data/calibration" };
        var metrics = ModelMetrics.Parse((s_metrics with { Accuracy = accuracy }).ToJson());

        var markdown = new BuildReport(metrics, [], null, []).Markdown();

        Assert.Contains("measured on 3 input file(s) in /data/calibration;", markdown);
        Assert.Contains("measured on 1 seeded synthetic input;", new BuildReport(s_metrics with { Accuracy = accuracy with { MeasuredOn = NeuralBuild.Engine.Evaluation.EvaluationInputs.SyntheticDescription } }, [], null, []).Markdown());
    }
}
