using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NuGet.Versioning;

namespace NeuralBuild.Engine.Budgets;

/// <summary>What a check compares against besides absolute budgets.</summary>
public sealed record BaselineContext
{
    /// <summary>The baseline's entry for this model; null when it has none.</summary>
    public BaselineEntry? Entry { get; init; }

    /// <summary>Where the baseline lives (for messages).</summary>
    public required string BaselinePath { get; init; }

    /// <summary>Whether a missing entry deserves a warning (the baseline file exists or a regression limit is set).</summary>
    public bool WarnIfMissing { get; init; }

    /// <summary>The model version the project declares (ModelVersion metadata / --model-version).</summary>
    public NuGetVersion? DeclaredVersion { get; init; }

    /// <summary>How to tell the user to record a new baseline, e.g. "-p:NeuralUpdateBaseline=true".</summary>
    public string AcceptHint { get; init; } = "dotnet neural baseline accept MODEL --reason \"…\"";
}

/// <summary>
/// Checks a model's metrics against its budgets and its baseline: the one implementation behind
/// the build's check target and <c>dotnet neural check</c>, so both give the same verdicts and codes.
/// Budget diagnostics point at the model file line of the layer that contributes most to the metric
/// and name the three that contribute most; a regression points at the layer that grew most against
/// the baseline's per-layer figures (<see cref="BaselineChanges"/>) and names the three that grew most.
/// </summary>
public static class BudgetEvaluator
{
    public static IReadOnlyList<Diagnostic> Evaluate(ModelMetrics metrics, BudgetSettings settings, BaselineContext? baseline = null)
    {
        var diagnostics = new List<Diagnostic>();
        foreach (var metric in BudgetMetric.All)
        {
            var value = metrics.Value(metric);
            if (settings.Max.TryGetValue(metric, out var max) && value > max.Value)
            {
                diagnostics.Add(OverBudget(DiagnosticCodes.BudgetExceeded, metrics, metric, value, max));
            }
            else if (settings.Warn.TryGetValue(metric, out var warn) && value > warn.Value)
            {
                diagnostics.Add(OverBudget(DiagnosticCodes.BudgetWarning, metrics, metric, value, warn));
            }
        }

        if (settings.MaxOutputError is { } outputBudget && metrics.Accuracy?.Worst is { } worst && worst.MaxRelativeError > outputBudget.Value)
        {
            diagnostics.Add(OutputErrorOverBudget(metrics, worst, outputBudget));
        }

        if (settings.MinTop1Agreement is { } top1Budget && metrics.Accuracy?.Outputs.Where(o => o.Top1Agreement < top1Budget.Value).ToList() is { Count: > 0 } below)
        {
            diagnostics.Add(DiagnosticCodes.Top1AgreementBelowBudget.At(new SourceLocation(metrics.ModelPath),
                $"the quantized export ({metrics.Accuracy!.Encoding}) keeps the original's top-1 class on {string.Join(", ", below.Select(o => $"{OutputErrorBudget.Percent(o.Top1Agreement!.Value)} of the items of output '{o.Output}'"))}, below {top1Budget.Setting}={top1Budget.Text}."));
        }

        if (baseline is not null)
        {
            CheckBaseline(metrics, settings, baseline, diagnostics);
        }

        return diagnostics;
    }

    /// <summary>
    /// NM1010 at the layer whose quantization alone (weights, and calibrated activations) moves the outputs most, naming the three that
    /// do. A model without a lossy export computes what the original computes: no error to exceed.
    /// </summary>
    private static Diagnostic OutputErrorOverBudget(ModelMetrics metrics, OutputError worst, OutputErrorBudget budget)
    {
        var top = metrics.Layers
            .Where(l => l.OutputError > 0)
            .OrderByDescending(l => l.OutputError)
            .ThenBy(l => l.Index)
            .Take(3)
            .ToList();
        var location = top.Count > 0 ? Locate(top[0].Location, metrics) : new SourceLocation(metrics.ModelPath);
        var layers = top.Count > 0
            ? $" Layers contributing most (each quantized alone): {string.Join("; ", top.Select(l => $"{l.Describe()}: {OutputErrorBudget.Percent(l.OutputError!.Value)}"))}."
            : string.Empty;
        return DiagnosticCodes.OutputErrorBudgetExceeded.At(location,
            $"the quantized export ({metrics.Accuracy!.Encoding}) moves output '{worst.Output}' by up to {OutputErrorBudget.Percent(worst.MaxRelativeError)} of its magnitude, which exceeds {budget.Setting}={budget.Text}.{layers}");
    }

    private static void CheckBaseline(ModelMetrics metrics, BudgetSettings settings, BaselineContext baseline, List<Diagnostic> diagnostics)
    {
        var modelFile = new SourceLocation(metrics.ModelPath);
        if (baseline.Entry is not { } entry)
        {
            if (baseline.WarnIfMissing)
            {
                diagnostics.Add(DiagnosticCodes.BaselineEntryMissing.At(modelFile,
                    $"'{baseline.BaselinePath}' has no entry for this model, so regressions are not checked; record one with {baseline.AcceptHint}."));
            }

            return;
        }

        if (entry.ModelVersion is { } recorded && baseline.DeclaredVersion is { } declared && recorded > declared)
        {
            diagnostics.Add(DiagnosticCodes.BaselineNewerModelVersion.At(modelFile,
                $"the baseline entry '{entry.Key}' in '{baseline.BaselinePath}' was recorded for model version {recorded.ToNormalizedString()}, newer than the declared ModelVersion {declared.ToNormalizedString()}: the project uses an older model than the baseline describes. Set ModelVersion to the model actually used, or record a new baseline with {baseline.AcceptHint}."));
            return;
        }

        var changes = BaselineChanges.Between(entry, metrics);
        foreach (var metric in BudgetMetric.All)
        {
            if (!entry.Metrics.TryGetValue(metric.Key, out var before))
            {
                diagnostics.Add(DiagnosticCodes.BaselineMetricMissing.At(modelFile,
                    $"the baseline entry '{entry.Key}' in '{baseline.BaselinePath}' has no \"{metric.Key}\" metric, so {metric.Label} cannot be checked for regressions; record it again with {baseline.AcceptHint}."));
                continue;
            }

            var value = metrics.Value(metric);
            var limit = settings.Increase.TryGetValue(metric, out var s) ? s : new RegressionSetting(metric.IncreaseSetting, RegressionLimit.Zero);
            var allowed = limit.Limit.Allowed(before);
            if (value <= allowed)
            {
                continue;
            }

            // The layers that grew most against the accepted ones explain a regression; a baseline without
            // per-layer figures (older NeuralBuild) leaves only the layers with the largest share.
            var (location, contributors) = changes is not null && changes.Growth.Layers.Any(l => l.Value(metric) > 0)
                ? Contributors(changes.Growth, metric, "Layers that grew most against the baseline")
                : Contributors(metrics, metric);
            diagnostics.Add(DiagnosticCodes.RegressionExceeded.At(location,
                $"{Growth(metric, before, "in the baseline", value, limit, allowed)} {contributors} If the growth is intended, record a new baseline with {baseline.AcceptHint}."));
        }
    }

    /// <summary><c>MACC grew from A in the baseline to B (by C, +n%), beyond MaxMaccIncrease=+2% (at most N).</c></summary>
    internal static string Growth(BudgetMetric metric, long before, string beforeWhere, long value, RegressionSetting limit, long allowed)
    {
        var growth = before == 0 ? string.Empty : $", +{((decimal)(value - before) * 100m / before).ToString("0.##", CultureInfo.InvariantCulture)}%";
        return $"{metric.Label} grew from {metric.Format(before)} {beforeWhere} to {metric.Format(value)} (by {metric.Format(value - before)}{growth}), beyond {limit.Setting}={limit.Limit} (at most {Analysis.HumanUnits.Exact(allowed)}).";
    }

    private static Diagnostic OverBudget(DiagnosticDescriptor code, ModelMetrics metrics, BudgetMetric metric, long value, Budget budget)
    {
        var (location, contributors) = Contributors(metrics, metric);
        return code.At(location,
            $"{metric.Label} is {metric.Format(value)}, which exceeds {budget.Setting}={budget.Text} ({Analysis.HumanUnits.Exact(budget.Value)}) by {metric.Format(value - budget.Value)}. {contributors}");
    }

    /// <summary>
    /// Where to point and what to name: the three layers with the largest share of the metric (ties
    /// broken by layer order), located at the first of them. Peak activation memory is a property of
    /// one point in the execution order, so it points at the layer where the peak is reached and names
    /// the largest layer outputs.
    /// </summary>
    /// <remarks><paramref name="heading"/> replaces the list's heading when the layers' values are not shares but changes (a diff's growth).</remarks>
    internal static (SourceLocation Location, string Text) Contributors(ModelMetrics metrics, BudgetMetric metric, string? heading = null)
    {
        var top = metrics.Layers
            .Where(l => l.Value(metric) > 0)
            .OrderByDescending(l => l.Value(metric))
            .ThenBy(l => l.Index)
            .Take(3)
            .ToList();
        var list = string.Join("; ", top.Select(l => $"{l.Describe()}: {metric.Format(l.Value(metric))}"));
        if (metric == BudgetMetric.PeakActivation)
        {
            var peak = metrics.Layers.FirstOrDefault(l => l.Index == metrics.PeakLayerIndex) ?? top.FirstOrDefault();
            var at = peak?.Location ?? new SourceLocation(metrics.ModelPath);
            var where = peak is null ? string.Empty : $"The peak is reached at {peak.Describe()}. ";
            return (Locate(at, metrics), top.Count == 0 ? where.TrimEnd() : $"{where}{heading ?? "Largest layer outputs"}: {list}.");
        }

        if (top.Count == 0)
        {
            return (new SourceLocation(metrics.ModelPath), "No layer contributes to it.");
        }

        return (Locate(top[0].Location, metrics), $"{heading ?? "Layers contributing most"}: {list}.");
    }

    private static SourceLocation Locate(SourceLocation location, ModelMetrics metrics) =>
        string.IsNullOrEmpty(location.File) ? new SourceLocation(metrics.ModelPath, location.Line, location.Column) : location;
}
