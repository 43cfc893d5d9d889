using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Budgets;

/// <summary>Whether a metric counts things (SI prefixes) or bytes (SI or IEC prefixes, capital B required).</summary>
public enum QuantityKind
{
    Count,
    Bytes,
}

/// <summary>
/// A metric a budget or a regression limit can be set on. The names here are the public surface:
/// <see cref="Setting"/> is the item metadata (<c>MaxMacc</c>), the project-wide property adds the
/// <c>Neural</c> prefix (<c>NeuralMaxMacc</c>), and <see cref="Key"/> is the metrics/baseline JSON key.
/// </summary>
public sealed record BudgetMetric(string Setting, string Key, string Label, QuantityKind Kind, string Unit)
{
    public static BudgetMetric Macc { get; } = new("Macc", "macc", "MACC", QuantityKind.Count, "MAC");

    public static BudgetMetric Params { get; } = new("Params", "params", "parameter count", QuantityKind.Count, string.Empty);

    public static BudgetMetric WeightsSize { get; } = new("WeightsSize", "weightsBytes", "weights size", QuantityKind.Bytes, "B");

    public static BudgetMetric PeakActivation { get; } = new("PeakActivation", "peakActivationBytes", "peak activation memory", QuantityKind.Bytes, "B");

    public static BudgetMetric MemoryAccess { get; } = new("MemoryAccess", "memoryAccess", "memory access", QuantityKind.Count, "elements");

    /// <summary>Every metric, in the order messages and files list them.</summary>
    public static IReadOnlyList<BudgetMetric> All { get; } = [Macc, Params, WeightsSize, PeakActivation, MemoryAccess];

    /// <summary>Metadata name of the error-level budget, e.g. <c>MaxMacc</c>.</summary>
    public string MaxSetting => "Max" + Setting;

    /// <summary>Metadata name of the warning-level budget, e.g. <c>WarnMacc</c>.</summary>
    public string WarnSetting => "Warn" + Setting;

    /// <summary>Metadata name of the regression limit, e.g. <c>MaxMaccIncrease</c>.</summary>
    public string IncreaseSetting => "Max" + Setting + "Increase";

    /// <summary>Rounded value with its unit and the exact integer: <c>6.52 GMAC (6,521,344,000)</c>.</summary>
    public string Format(long value) => $"{Rounded(value)} ({HumanUnits.Exact(value)})";

    /// <summary>Rounded value with its unit: <c>6.52 GMAC</c>, <c>24 MiB</c>.</summary>
    public string Rounded(long value)
    {
        if (Kind == QuantityKind.Bytes)
        {
            return HumanUnits.Bytes(value);
        }

        var count = HumanUnits.Count(value);
        if (Unit.Length == 0)
        {
            return count;
        }

        // "6.52 G" + "MAC" reads "6.52 GMAC"; a plain "512" becomes "512 MAC"; words stay apart ("581 k elements").
        return Unit == "MAC" && char.IsLetter(count[^1]) ? count + Unit : count + " " + Unit;
    }
}
