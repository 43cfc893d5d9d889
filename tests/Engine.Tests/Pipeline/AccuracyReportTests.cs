using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>The measurement of a lossy export: errors relative to the output's magnitude, top-1 / top-5 agreement, the budget.</summary>
[TestClass]
public sealed class AccuracyReportTests
{
    [TestMethod]
    public void Errors_are_relative_to_the_largest_magnitude_of_the_original_output()
    {
        // max|b| = 4; |a - b| = 0.1, 0.2, 0, 0.1: max 0.2 / 4 = 5%, mean 0.1 / 4 = 2.5%.
        float[] original = [1, -4, 2, 0.5f];
        float[] exported = [1.1f, -3.8f, 2, 0.4f];
        var measured = OutputAccuracy.Measure("s", "out", new Shape(4), exported, original);
        Assert.AreEqual(0.05, measured.MaxRelativeError, 1e-6);
        Assert.AreEqual(0.025, measured.MeanRelativeError, 1e-6);
        Assert.IsNull(measured.Top1Agreement, "a rank-1 output is not classifier-like");
    }

    [TestMethod]
    public void Top1_and_top5_agreement_count_items_of_a_classifier_output()
    {
        // Two items of 6 classes. Item 0: the original's best is class 5, the export's too. Item 1: the original's
        // best is class 0, the export ranks it 5th (four classes above it): top-1 lost, still in the top 5.
        float[] original = [0, 1, 2, 3, 4, 5, 9, 1, 2, 3, 4, 5];
        float[] exported = [0, 1, 2, 3, 4, 5, 5, 1, 6, 7, 8, 9];
        var measured = OutputAccuracy.Measure("s", "out", new Shape(2, 6, 1, 1), exported, original);
        Assert.AreEqual(0.5, measured.Top1Agreement);
        Assert.AreEqual(1.0, measured.Top5Agreement);
    }

    [TestMethod]
    public void A_spatial_output_has_no_top1()
    {
        var measured = OutputAccuracy.Measure("s", "out", Shape.Nchw(1, 2, 2, 1), new float[4], new float[4]);
        Assert.IsNull(measured.Top1Agreement);
    }

    [TestMethod]
    public void Over_the_budget_is_NM1010_naming_the_output_and_the_layer_that_moved_most()
    {
        var output = OutputAccuracy.Measure("ONNX Runtime output 'prob'", "prob", new Shape(1, 2), [1.03f, 0], [1, 0]);
        LossyWeight[] weights =
        [
            new(new LayerOrigin(1, "convolutional", "conv1", SourceLocation.None), "w1", "int8 per channel", 4096, 1100, 0.004),
            new(new LayerOrigin(7, "connected", "fc", SourceLocation.None), "w7", "int8 per channel", 8192, 2100, 0.009),
        ];
        Assert.IsTrue(new AccuracyReport([output], 0.05, weights).Passed);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OutputErrorBudgetExceeded, () => new AccuracyReport([output], 0.02, weights).ThrowIfOverBudget(SourceLocation.None));
        StringAssert.Contains(error.Message, "'prob': max rel error 3%");
        StringAssert.Contains(error.Message, "moved most: layer 7 [connected] 'fc'");
    }

    [TestMethod]
    public void Given_measured_contributions_NM1010_is_at_the_layer_that_contributes_most_and_names_three_and_they_are_measured_only_when_over()
    {
        var output = OutputAccuracy.Measure("read back output 'prob'", "prob", new Shape(1, 2), [1.03f, 0], [1, 0]);
        var cfg = "/m/net.cfg";
        LayerContribution[] measured =
        [
            new(new LayerOrigin(7, "connected", "fc", new SourceLocation(cfg, 40, 1)), 0.021),
            new(new LayerOrigin(1, "convolutional", "conv1", new SourceLocation(cfg, 9, 1)), 0.004),
            new(new LayerOrigin(3, "convolutional", "conv3", new SourceLocation(cfg, 20, 1)), 0.002),
            new(new LayerOrigin(5, "convolutional", "conv5", new SourceLocation(cfg, 30, 1)), 0.001),
        ];
        var calls = 0;
        IReadOnlyList<LayerContribution> Measure()
        {
            calls++;
            return measured;
        }

        new AccuracyReport([output], 0.05, []).ThrowIfOverBudget(new SourceLocation(cfg), Measure);
        Assert.AreEqual(0, calls, "within the budget nothing is measured");

        var error = DiagnosticAssert.Throws(DiagnosticCodes.OutputErrorBudgetExceeded, () => new AccuracyReport([output], 0.02, []).ThrowIfOverBudget(new SourceLocation(cfg), Measure));
        Assert.AreEqual(1, calls);
        Assert.AreEqual(40, error.Location.Line);
        StringAssert.Contains(error.Message, "Layers contributing most (each quantized alone): layer 7 [connected] line 40: 2.1%; layer 1 [convolutional] line 9: 0.4%; layer 3 [convolutional] line 20: 0.2%.");
    }

    [TestMethod]
    [DataRow("2%", 0.02)]
    [DataRow("0.5%", 0.005)]
    public void A_budget_is_a_percentage(string text, double fraction) =>
        Assert.AreEqual(fraction, AccuracyReport.ParseBudget(text, SourceLocation.None), 1e-12);

    [TestMethod]
    [DataRow("2")]
    [DataRow("-1%")]
    [DataRow("abc%")]
    public void Anything_else_is_NM0343(string text) =>
        DiagnosticAssert.Throws(DiagnosticCodes.InvalidOutputErrorBudget, () => AccuracyReport.ParseBudget(text, SourceLocation.None));

    [TestMethod]
    public void Inputs_combine_into_the_worst_max_the_mean_of_means_and_agreements_over_all_items()
    {
        // Input A: 2 items of 5 classes, both keep their top-1 (item 1's best class 4 drops to rank 2: still top 5).
        float[] originalA = [5, 1, 0, 0, 0, /* item 1 */ 0, 0, 0, 1, 5];
        float[] exportedA = [5, 1, 0, 0, 0, /* item 1 */ 0, 6, 7, 1, 5];
        // Input B: 1 item whose top-1 moves from class 2 to class 3.
        float[] originalB = [0, 1, 4, 3, 2];
        float[] exportedB = [0, 1, 3, 4, 2];
        var a = OutputAccuracy.Measure("s", "out", new Shape(2, 5), exportedA, originalA);
        var b = OutputAccuracy.Measure("s", "out", new Shape(1, 5), exportedB, originalB);
        Assert.AreEqual(0.5, a.Top1Agreement, "item 1's best (class 4, 5) is passed by classes 1 and 2 (6, 7)");
        Assert.AreEqual(2, a.Items);

        var combined = OutputAccuracy.Combine([a, b]);

        // Top-1: 1 of 2 items of A, 0 of 1 of B -> 1 / 3. Top-5 (all 5 classes): 3 / 3.
        Assert.AreEqual(1.0 / 3, combined.Top1Agreement!.Value, 1e-12);
        Assert.AreEqual(1.0, combined.Top5Agreement);
        Assert.AreEqual(3, combined.Items);
        Assert.AreEqual(2, combined.Inputs);
        // A: max |a - b| = 7 of max|b| 5 -> 140%; mean 13 / 10 / 5 = 26%. B: max 1 / 4 = 25%, mean 2 / 5 / 4 = 10%.
        Assert.AreEqual(1.4, combined.MaxRelativeError, 1e-6);
        Assert.AreEqual((0.26 + 0.1) / 2, combined.MeanRelativeError, 1e-6);
        StringAssert.Contains(combined.ToString(), "(over 2 inputs, 3 items)");
    }

    [TestMethod]
    public void Under_the_top1_budget_is_NM1011_naming_the_output_and_what_was_measured()
    {
        var output = OutputAccuracy.Measure("ONNX Runtime output 'prob'", "prob", new Shape(2, 3), [0, 1, 0, 1, 0, 0.9f], [0, 1, 0, 0.9f, 0, 1]);
        Assert.AreEqual(0.5, output.Top1Agreement);

        Assert.IsTrue(new AccuracyReport([output], null, []) { MinTop1Agreement = 0.5 }.Passed);
        var report = new AccuracyReport([output], 1.0, []) { MinTop1Agreement = 0.99, MeasuredOn = "2 input file(s) in data" };
        Assert.IsFalse(report.Passed);
        StringAssert.Contains(report.Summary(), "BELOW MinTop1Agreement=99%");
        var error = DiagnosticAssert.Throws(DiagnosticCodes.Top1AgreementBelowBudget, () => report.ThrowIfOverBudget(SourceLocation.None));
        StringAssert.Contains(error.Message, "MinTop1Agreement=99% (measured on 2 input file(s) in data)");
        StringAssert.Contains(error.Message, "'prob': max rel error 10%, mean rel error 3.3333%, top-1 agreement 50%");
    }
}
