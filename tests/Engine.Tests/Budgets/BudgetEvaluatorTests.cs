using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NuGet.Versioning;

namespace NeuralBuild.Engine.Tests.Budgets;

[TestClass]
public sealed class BudgetEvaluatorTests
{
    private const string Cfg = "/models/net.cfg";

    /// <summary>Four layers with hand-picked figures; layer 2 is the heaviest in MACC, layer 0 in params.</summary>
    private static ModelMetrics Metrics(long scale = 1) => new()
    {
        ModelPath = Cfg,
        Totals = new Dictionary<string, long>
        {
            ["macc"] = 1_750_000_000 * scale,
            ["params"] = 4_000_000,
            ["weightsBytes"] = 16_000_000,
            ["peakActivationBytes"] = 9_000_000,
            ["memoryAccess"] = 50_000_000,
        },
        PeakLayerIndex = 1,
        Layers =
        [
            new LayerMetrics(0, "convolutional", new SourceLocation(Cfg, 10, 1), 250_000_000 * scale, 3_000_000, 12_000_000, 2_000_000, 20_000_000),
            new LayerMetrics(1, "maxpool", new SourceLocation(Cfg, 20, 1), 0, 0, 0, 500_000, 1_000_000),
            new LayerMetrics(2, "convolutional", new SourceLocation(Cfg, 30, 3), 1_000_000_000 * scale, 600_000, 2_400_000, 4_000_000, 19_000_000),
            new LayerMetrics(3, "convolutional", new SourceLocation(Cfg, 40, 1), 500_000_000 * scale, 400_000, 1_600_000, 2_500_000, 10_000_000),
        ],
    };

    private static BudgetSettings Settings(params (string Name, string Value)[] values)
    {
        var diagnostics = new List<Diagnostic>();
        var settings = BudgetSettings.Parse(name => values.FirstOrDefault(v => v.Name == name).Value, new SourceLocation("/p/app.csproj"), diagnostics);
        Assert.IsEmpty(diagnostics, string.Join("\n", diagnostics));
        return settings;
    }

    [TestMethod]
    public void A_budget_error_names_metric_value_limit_excess_and_top_three_layers_at_the_heaviest_line()
    {
        var d = BudgetEvaluator.Evaluate(Metrics(), Settings(("MaxMacc", "1.5G"))).Single();
        Assert.AreEqual(
            "/models/net.cfg(30,3): error NM1001: MACC is 1.75 GMAC (1,750,000,000), which exceeds MaxMacc=1.5G (1,500,000,000) by 250 MMAC (250,000,000). "
            + "Layers contributing most: layer 2 [convolutional] line 30: 1 GMAC (1,000,000,000); layer 3 [convolutional] line 40: 500 MMAC (500,000,000); layer 0 [convolutional] line 10: 250 MMAC (250,000,000).",
            d.ToString());
    }

    [TestMethod]
    public void Within_budget_and_exactly_at_budget_pass()
    {
        Assert.IsEmpty(BudgetEvaluator.Evaluate(Metrics(), Settings(("MaxMacc", "1750M"), ("MaxParams", "4M"), ("MaxWeightsSize", "16MB"))));
    }

    [TestMethod]
    public void Warn_level_gives_a_warning_and_max_level_takes_precedence()
    {
        var warn = BudgetEvaluator.Evaluate(Metrics(), Settings(("WarnParams", "3.5M"))).Single();
        Assert.AreEqual("NM2001", warn.Code);
        Assert.AreEqual(DiagnosticSeverity.Warning, warn.Severity);
        Assert.AreEqual(10, warn.Location.Line, "params are heaviest in layer 0");

        var both = BudgetEvaluator.Evaluate(Metrics(), Settings(("WarnParams", "3.5M"), ("MaxParams", "3M"))).Single();
        Assert.AreEqual("NM1001", both.Code);
    }

    [TestMethod]
    public void Peak_activation_points_at_the_peak_layer()
    {
        var d = BudgetEvaluator.Evaluate(Metrics(), Settings(("MaxPeakActivation", "8MB"))).Single();
        Assert.AreEqual(20, d.Location.Line);
        StringAssert.Contains(d.Message, "The peak is reached at layer 1 [maxpool] line 20. Largest layer outputs: layer 2 [convolutional] line 30: 3.81 MiB (4,000,000)");
    }

    [TestMethod]
    public void Regression_beyond_the_limit_is_an_error_and_within_it_passes()
    {
        var baseline = new BaselineContext
        {
            BaselinePath = "/p/neural-baseline.json",
            Entry = new BaselineEntry("net.cfg", null, BudgetMetric.All.ToDictionary(m => m.Key, m => Metrics().Value(m)), null, null),
        };
        var grown = Metrics() with { Totals = new Dictionary<string, long>(Metrics().Totals) { ["macc"] = 1_800_000_000 } };

        Assert.IsEmpty(BudgetEvaluator.Evaluate(grown, Settings(("MaxMaccIncrease", "+3%")), baseline));
        Assert.IsEmpty(BudgetEvaluator.Evaluate(grown, Settings(("MaxMaccIncrease", "+50M")), baseline));

        var d = BudgetEvaluator.Evaluate(grown, Settings(("MaxMaccIncrease", "+2%")), baseline).Single();
        Assert.AreEqual("NM1002", d.Code);
        Assert.AreEqual(30, d.Location.Line);
        StringAssert.StartsWith(d.Message, "MACC grew from 1.75 GMAC (1,750,000,000) in the baseline to 1.8 GMAC (1,800,000,000) (by 50 MMAC (50,000,000), +2.86%), beyond MaxMaccIncrease=+2% (at most 1,785,000,000).");

        // Without a limit, any growth is a regression.
        Assert.AreEqual("NM1002", BudgetEvaluator.Evaluate(grown, Settings(), baseline).Single().Code);
    }

    [TestMethod]
    public void A_regression_names_the_layers_that_grew_most_against_the_baselines_layers()
    {
        // Accepted: the four layers of Metrics(). Now: layer 3 is 300M larger, layer 0 100M larger,
        // layer 2 (the largest share) unchanged, and a new layer 4 of 50M: the total grows by 450M.
        var accepted = Metrics();
        var baseline = new BaselineContext
        {
            BaselinePath = "/p/neural-baseline.json",
            Entry = new BaselineEntry("net.cfg", null, BudgetMetric.All.ToDictionary(m => m.Key, m => accepted.Value(m)), null, null) { Layers = accepted.Layers },
        };
        var grown = accepted with
        {
            Totals = new Dictionary<string, long>(accepted.Totals) { ["macc"] = 2_200_000_000 },
            Layers =
            [
                accepted.Layers[0] with { Macc = 350_000_000 },
                accepted.Layers[1],
                accepted.Layers[2],
                accepted.Layers[3] with { Macc = 800_000_000 },
                new LayerMetrics(4, "convolutional", new SourceLocation(Cfg, 50, 1), 50_000_000, 0, 0, 0, 0),
            ],
        };

        var d = BudgetEvaluator.Evaluate(grown, Settings(("MaxMaccIncrease", "+10%")), baseline).Single();
        Assert.AreEqual("NM1002", d.Code);
        Assert.AreEqual(40, d.Location.Line, "points at the layer that grew most, not at the largest one (line 30)");
        StringAssert.Contains(d.Message, "Layers that grew most against the baseline: layer 3 [convolutional] line 40: 300 MMAC (300,000,000); layer 0 [convolutional] line 10: 100 MMAC (100,000,000); layer 4 [convolutional] line 50: 50 MMAC (50,000,000).");

        // A baseline recorded before per-layer figures were kept: the largest shares, as before.
        var old = baseline with { Entry = baseline.Entry with { Layers = null } };
        var fallback = BudgetEvaluator.Evaluate(grown, Settings(("MaxMaccIncrease", "+10%")), old).Single();
        Assert.AreEqual(30, fallback.Location.Line);
        StringAssert.Contains(fallback.Message, "Layers contributing most: layer 2 [convolutional] line 30");
    }

    [TestMethod]
    public void Missing_entry_warns_only_when_asked_and_missing_metric_is_an_error()
    {
        var none = new BaselineContext { BaselinePath = "b.json", WarnIfMissing = true };
        Assert.AreEqual("NM2002", BudgetEvaluator.Evaluate(Metrics(), Settings(), none).Single().Code);
        Assert.IsEmpty(BudgetEvaluator.Evaluate(Metrics(), Settings(), none with { WarnIfMissing = false }));

        var partial = new BaselineContext
        {
            BaselinePath = "b.json",
            Entry = new BaselineEntry("net.cfg", null, BudgetMetric.All.Where(m => m != BudgetMetric.MemoryAccess).ToDictionary(m => m.Key, m => Metrics().Value(m)), null, null),
        };
        var d = BudgetEvaluator.Evaluate(Metrics(), Settings(), partial).Single();
        Assert.AreEqual("NM1003", d.Code);
        StringAssert.Contains(d.Message, "\"memoryAccess\"");
    }

    [TestMethod]
    public void Baseline_of_a_newer_model_version_is_an_error()
    {
        var metrics = BudgetMetric.All.ToDictionary(m => m.Key, m => Metrics().Value(m));
        var context = new BaselineContext
        {
            BaselinePath = "b.json",
            Entry = new BaselineEntry("net.cfg", NuGetVersion.Parse("2.0.0"), metrics, null, null),
            DeclaredVersion = NuGetVersion.Parse("1.9.3"),
        };
        var d = BudgetEvaluator.Evaluate(Metrics(), Settings(), context).Single();
        Assert.AreEqual("NM1004", d.Code);
        StringAssert.Contains(d.Message, "2.0.0, newer than the declared ModelVersion 1.9.3");

        Assert.IsEmpty(BudgetEvaluator.Evaluate(Metrics(), Settings(), context with { DeclaredVersion = NuGetVersion.Parse("2.0.0") }));
        Assert.IsEmpty(BudgetEvaluator.Evaluate(Metrics(), Settings(), context with { DeclaredVersion = NuGetVersion.Parse("2.1.0-beta.1") }));
    }

    [TestMethod]
    public void Invalid_settings_become_coded_diagnostics_at_the_given_location()
    {
        var diagnostics = new List<Diagnostic>();
        var settings = BudgetSettings.Parse(n => n switch { "MaxWeightsSize" => "24mb", "MaxMaccIncrease" => "-1%", _ => null }, new SourceLocation("/p/app.csproj"), diagnostics);
        Assert.IsEmpty(settings.Max);
        CollectionAssert.AreEquivalent(new[] { "NM0060", "NM0061" }, diagnostics.Select(d => d.Code).ToArray());
        StringAssert.StartsWith(diagnostics.Single(d => d.Code == "NM0060").ToString(), "/p/app.csproj: error NM0060: MaxWeightsSize=\"24mb\": '24mb': 'm' is milli");
    }

    [TestMethod]
    public void Metrics_keep_pointing_at_the_user_model_when_the_optimised_report_names_another_file()
    {
        LayerReport Layer(int i, string file, int line) => new(i, "convolutional", i.ToString(System.Globalization.CultureInfo.InvariantCulture), new SourceLocation(file, line, 1), "1x1x1x1", ["Conv"], new CostFigures { Macc = 10 * (i + 1) });
        ModelReport Report(params LayerReport[] layers) => new("x", "darknet", "1x3x8x8", NeuralBuild.Engine.Analysis.CountingConvention.Default, layers, new CostFigures(), 0, 0);
        var before = Report(Layer(0, "/m/net.cfg", 7), Layer(1, "/m/net.cfg", 19));
        var after = Report(Layer(0, "/tmp/staging/net.cfg", 6), Layer(1, "/m/net.cfg", 19), Layer(2, "/tmp/staging/net.cfg", 30));

        var metrics = ModelMetrics.FromReport(after, "/m/net.cfg", before: before);
        Assert.AreEqual(new SourceLocation("/m/net.cfg", 7, 1), metrics.Layers[0].Location, "taken from the same layer before optimisation");
        Assert.AreEqual(new SourceLocation("/m/net.cfg", 19, 1), metrics.Layers[1].Location);
        Assert.AreEqual(new SourceLocation("/m/net.cfg"), metrics.Layers[2].Location, "no counterpart: the model file without a line");
    }

    [TestMethod]
    public void An_output_error_over_MaxOutputError_is_located_at_the_layer_that_contributes_most_alone()
    {
        var metrics = Metrics() with
        {
            Accuracy = new ModelAccuracy("int8 per channel", [new OutputError("boxes", 0.0125, 0.001, null), new OutputError("scores", 0.031, 0.002, 1.0)]),
        };
        metrics = metrics with
        {
            Layers = [.. metrics.Layers.Select(l => l with { OutputError = l.Index switch { 0 => 0.004, 2 => 0.009, 3 => 0.02, _ => (double?)null } })],
        };

        Assert.IsEmpty(BudgetEvaluator.Evaluate(metrics, Settings(("MaxOutputError", "3.1%"))), "3.1% is within 3.1%");
        var error = BudgetEvaluator.Evaluate(metrics, Settings(("MaxOutputError", "2%"))).Single();

        Assert.AreEqual(DiagnosticCodes.OutputErrorBudgetExceeded, error.Descriptor);
        Assert.AreEqual(new SourceLocation(Cfg, 40, 1), error.Location, "layer 3 contributes most");
        Assert.AreEqual(
            "the quantized export (int8 per channel) moves output 'scores' by up to 3.1% of its magnitude, which exceeds MaxOutputError=2%. "
            + "Layers contributing most (each quantized alone): layer 3 [convolutional] line 40: 2%; layer 2 [convolutional] line 30: 0.9%; layer 0 [convolutional] line 10: 0.4%.",
            error.Message);
        Assert.IsEmpty(BudgetEvaluator.Evaluate(Metrics(), Settings(("MaxOutputError", "0%"))), "a model without a lossy export computes what the original computes");
    }

    [TestMethod]
    public void A_MaxOutputError_that_is_not_a_percentage_is_NM0343()
    {
        var diagnostics = new List<Diagnostic>();
        var settings = BudgetSettings.Parse(name => name == "MaxOutputError" ? "2" : null, new SourceLocation("/p/app.csproj"), diagnostics);
        Assert.IsNull(settings.MaxOutputError);
        Assert.AreEqual("/p/app.csproj: error NM0343: output error budget '2': give a percentage of the output's magnitude, such as 2% or 0.5%.", diagnostics.Single().ToString());
    }
}
