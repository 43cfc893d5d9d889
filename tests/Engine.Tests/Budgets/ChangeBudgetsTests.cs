using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Budgets;

/// <summary>Budgets of change between two models: the regression-limit grammar applied to a diff.</summary>
[TestClass]
public sealed class ChangeBudgetsTests
{
    private static readonly string s_cfg = TestPaths.Corpus("yolov3-tiny.cfg");

    private static ModelReport Inspect(string? input) =>
        CostModel.Analyze(ModelFormats.Read(s_cfg, new ModelReadOptions { InputShape = input is null ? null : Shape.Parse(input) }));

    private static IReadOnlyList<Diagnostic> Check(string setting, string limit)
    {
        var errors = new List<Diagnostic>();
        var settings = BudgetSettings.Parse(name => name == setting ? limit : null, SourceLocation.None, errors);
        Assert.IsEmpty(errors);
        return ChangeBudgets.Evaluate(ModelDiff.Compare(Inspect(null), Inspect("1x3x448x448")), settings);
    }

    // 416 -> 448 multiplies every spatial area by (448/416)^2 = 1.1598: MACC grows 15.98%.
    [TestMethod]
    [DataRow("+2%", true)]
    [DataRow("+15%", true)]
    [DataRow("+16%", false)]
    public void A_percentage_limit_fails_below_the_growth_and_passes_above_it(string limit, bool fails)
    {
        var verdicts = Check("MaxMaccIncrease", limit);

        Assert.HasCount(fails ? 1 : 0, verdicts);
        if (fails)
        {
            var d = verdicts[0];
            Assert.AreEqual("NM1005", d.Code);
            Assert.AreEqual(DiagnosticSeverity.Error, d.Severity);
            // The layer that grew most is layer 12 (3x3x512x1024 at 13x13 -> 14x14), whose section starts on line 97.
            Assert.AreEqual(97, d.Location.Line);
            Assert.StartsWith("MACC grew from 2.78 GMAC (2,782,480,896) in 'yolov3-tiny.cfg' to", d.Message);
            Assert.Contains("Layers that grew most: layer 12 [convolutional] line 97: 127.4 MMAC (127,401,984)", d.Message);
        }
    }

    [TestMethod]
    public void An_absolute_limit_fails_one_unit_below_the_growth()
    {
        var growth = Inspect("1x3x448x448").Totals.Macc - Inspect(null).Totals.Macc;

        Assert.IsEmpty(Check("MaxMaccIncrease", "+" + growth));
        Assert.HasCount(1, Check("MaxMaccIncrease", "+" + (growth - 1)));
    }

    [TestMethod]
    public void Metrics_that_did_not_grow_pass_a_zero_limit()
    {
        // Same weights at any input size.
        Assert.IsEmpty(Check("MaxParamsIncrease", "+0"));
        Assert.IsEmpty(Check("MaxWeightsSizeIncrease", "+0B"));
        Assert.HasCount(1, Check("MaxPeakActivationIncrease", "+0B"));
    }
}
