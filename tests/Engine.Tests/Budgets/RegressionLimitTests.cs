using NeuralBuild.Engine.Budgets;

namespace NeuralBuild.Engine.Tests.Budgets;

[TestClass]
public sealed class RegressionLimitTests
{
    [TestMethod]
    [DataRow("+2%", 1_000_000_000L, 1_020_000_000L)]
    [DataRow("2%", 1_000_000_000L, 1_020_000_000L)]
    [DataRow("+0.5%", 333L, 334L)]
    [DataRow("+200M", 1_000_000_000L, 1_200_000_000L)]
    [DataRow("+0", 7L, 7L)]
    [DataRow("+0%", 7L, 7L)]
    public void Allowed_value_is_baseline_plus_limit_rounded_down(string text, long baseline, long allowed)
    {
        Assert.IsTrue(RegressionLimit.TryParse(text, BudgetMetric.Macc, out var limit, out var error), error);
        Assert.AreEqual(allowed, limit.Allowed(baseline));
    }

    [TestMethod]
    public void Byte_metrics_take_byte_amounts()
    {
        Assert.IsTrue(RegressionLimit.TryParse("+1MiB", BudgetMetric.PeakActivation, out var limit, out _));
        Assert.AreEqual(1_048_576L + 10, limit.Allowed(10));
        Assert.IsFalse(RegressionLimit.TryParse("+1M", BudgetMetric.PeakActivation, out _, out var error));
        StringAssert.Contains(error, "MB");
    }

    [TestMethod]
    [DataRow("-2%", "negative")]
    [DataRow("+2 %x", "text around the '%'")]
    [DataRow("+lots", "does not start with a number")]
    public void Bad_limits_are_rejected(string text, string hint)
    {
        Assert.IsFalse(RegressionLimit.TryParse(text, BudgetMetric.Macc, out _, out var error));
        StringAssert.Contains(error, hint);
    }
}
