using System.Globalization;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// How close one budget is: the metric's value against the limit a <c>Max…</c> (error) or
/// <c>Warn…</c> (warning) setting gives it. One definition serves the build's summary line, its
/// report and <c>check --format json</c>, so they never disagree on a margin.
/// </summary>
public sealed record BudgetMargin(BudgetMetric Metric, Budget Budget, DiagnosticSeverity Level, long Value)
{
    /// <summary>What is left under the limit; negative: by how much it is exceeded.</summary>
    public long Margin => Budget.Value - Value;

    /// <summary>The share of the limit used (1.0 = at the limit); null for a limit of 0.</summary>
    public double? Used => Budget.Value > 0 ? (double)Value / Budget.Value : null;

    public bool Exceeded => Value > Budget.Value;

    /// <summary><c>MACC 2.78 GMAC of MaxMacc 3G (93%)</c>.</summary>
    public string Describe() =>
        $"{Metric.Label} {Metric.Rounded(Value)} of {Budget.Setting} {Budget.Text}" +
        (Used is { } used ? $" ({Percent(used)})" : string.Empty);

    /// <summary><c>93%</c>: a share as people write it (no space, whatever the culture).</summary>
    public static string Percent(double share, string format = "#,0") => (share * 100).ToString(format, CultureInfo.InvariantCulture) + "%";

    /// <summary>Every budget set, errors first, each in <see cref="BudgetMetric.All"/> order.</summary>
    public static IReadOnlyList<BudgetMargin> Of(ModelMetrics metrics, BudgetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(settings);
        var margins = new List<BudgetMargin>();
        foreach (var (level, budgets) in new[] { (DiagnosticSeverity.Error, settings.Max), (DiagnosticSeverity.Warning, settings.Warn) })
        {
            foreach (var metric in BudgetMetric.All)
            {
                if (budgets.TryGetValue(metric, out var budget))
                {
                    margins.Add(new BudgetMargin(metric, budget, level, metrics.Value(metric)));
                }
            }
        }

        return margins;
    }
}
