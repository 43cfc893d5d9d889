using System.Globalization;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// How much a metric may grow over its baseline: a percentage of the baseline (<c>+2%</c>) or an
/// absolute amount in the metric's own grammar (<c>+200M</c>, <c>+1MiB</c>). The leading <c>+</c>
/// is optional; a negative limit is rejected.
/// </summary>
public sealed record RegressionLimit(string Text, decimal? Percent, long Absolute)
{
    /// <summary>No growth at all: what applies when the project sets no limit for a metric.</summary>
    public static RegressionLimit Zero { get; } = new("+0", null, 0);

    public static bool TryParse(string? text, BudgetMetric metric, out RegressionLimit limit, out string error)
    {
        limit = Zero;
        var s = (text ?? string.Empty).Trim();
        if (s.StartsWith('-'))
        {
            error = $"'{s}' is negative; a regression limit is how much the metric may grow, e.g. +2% or +{(metric.Kind == QuantityKind.Bytes ? "1MiB" : "200M")}";
            return false;
        }

        var body = s.StartsWith('+') ? s[1..] : s;
        if (!Quantity.TryParse(body, metric, allowPercent: true, out var absolute, out var percent, out error))
        {
            return false;
        }

        limit = new RegressionLimit(s, percent, absolute);
        return true;
    }

    /// <summary>The largest value allowed for a metric whose baseline is <paramref name="baseline"/>.</summary>
    public long Allowed(long baseline)
    {
        if (Percent is { } p)
        {
            var allowed = decimal.Floor(baseline + (baseline * p / 100m));
            return allowed >= long.MaxValue ? long.MaxValue : (long)allowed;
        }

        return baseline > long.MaxValue - Absolute ? long.MaxValue : baseline + Absolute;
    }

    public override string ToString() => Percent is { } p
        ? "+" + p.ToString(CultureInfo.InvariantCulture) + "%"
        : "+" + Absolute.ToString(CultureInfo.InvariantCulture);
}
