using NeuralBuild.Engine.Budgets;

namespace NeuralBuild.Engine.Tests.Budgets;

[TestClass]
public sealed class QuantityTests
{
    [TestMethod]
    [DataRow("6.5G", 6_500_000_000L)]
    [DataRow("6500M", 6_500_000_000L)]
    [DataRow("6.5 GMAC", 6_500_000_000L)]
    [DataRow("6.5GMACC", 6_500_000_000L)]
    [DataRow("  3G ", 3_000_000_000L)]
    [DataRow("1500k", 1_500_000L)]
    [DataRow("1500K", 1_500_000L)]
    [DataRow("2T", 2_000_000_000_000L)]
    [DataRow("1Gi", 1_073_741_824L)]
    [DataRow("123456789", 123_456_789L)]
    [DataRow("0", 0L)]
    [DataRow("0.001G", 1_000_000L)]
    public void Counts_parse_to_exact_integers(string text, long expected)
    {
        Assert.IsTrue(Quantity.TryParse(text, BudgetMetric.Macc, out var value, out var error), error);
        Assert.AreEqual(expected, value);
    }

    [TestMethod]
    [DataRow("24MiB", 25_165_824L)]
    [DataRow("25MB", 25_000_000L)]
    [DataRow("1.5 GiB", 1_610_612_736L)]
    [DataRow("4096B", 4_096L)]
    [DataRow("100kB", 100_000L)]
    [DataRow("100KB", 100_000L)]
    [DataRow("1KiB", 1_024L)]
    [DataRow("1TiB", 1_099_511_627_776L)]
    public void Byte_budgets_parse_SI_and_IEC(string text, long expected)
    {
        Assert.IsTrue(Quantity.TryParse(text, BudgetMetric.WeightsSize, out var value, out var error), error);
        Assert.AreEqual(expected, value);
    }

    [TestMethod]
    [DataRow("25mb", "MB (10^6 bytes) or MiB")]
    [DataRow("25Mb", "bits; write MB")]
    [DataRow("25Mib", "bits; write MiB")]
    [DataRow("24Mi", "capital B after the prefix, e.g. MiB")]
    [DataRow("25", "ending in a capital B")]
    [DataRow("-1MB", "negative")]
    [DataRow("5%", "MaxWeightsSizeIncrease")]
    [DataRow("0.5B", "not a whole number of bytes")]
    [DataRow("MB", "does not start with a number")]
    [DataRow("", "empty")]
    [DataRow("12 furlongs", "not a byte unit")]
    public void Bad_byte_spellings_are_rejected_with_the_right_spelling(string text, string hint)
    {
        Assert.IsFalse(Quantity.TryParse(text, BudgetMetric.WeightsSize, out _, out var error));
        StringAssert.Contains(error, hint);
    }

    [TestMethod]
    [DataRow("6500m", "milli; write M for millions")]
    [DataRow("6.5g", "capitals, e.g. G")]
    [DataRow("3GB", "not bytes; drop the B")]
    [DataRow("-3G", "negative")]
    [DataRow("10%", "MaxMaccIncrease=\"+10%\"")]
    [DataRow("1.5", "not a whole number")]
    [DataRow("99999999999T", "too large")]
    [DataRow("3 GFLOP", "not a unit NeuralBuild knows")]
    public void Bad_count_spellings_are_rejected_with_the_right_spelling(string text, string hint)
    {
        Assert.IsFalse(Quantity.TryParse(text, BudgetMetric.Macc, out _, out var error));
        StringAssert.Contains(error, hint);
    }

    [TestMethod]
    public void Values_print_rounded_and_exact()
    {
        Assert.AreEqual("6.52 GMAC (6,521,344,000)", BudgetMetric.Macc.Format(6_521_344_000));
        Assert.AreEqual("512 MAC (512)", BudgetMetric.Macc.Format(512));
        Assert.AreEqual("24 MiB (25,165,824)", BudgetMetric.WeightsSize.Format(25_165_824));
        Assert.AreEqual("8.85 M (8,852,366)", BudgetMetric.Params.Format(8_852_366));
        Assert.AreEqual("581 k elements (581,000)", BudgetMetric.MemoryAccess.Format(581_000));
    }
}
