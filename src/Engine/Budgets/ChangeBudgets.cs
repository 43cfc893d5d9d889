using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// Budgets of change between two models (<c>dotnet neural diff A B --max-macc-increase +2%</c>):
/// the regression limits of <see cref="BudgetSettings.Increase"/>, read with their one grammar
/// (<see cref="RegressionLimit"/>), applied to the second model against the first instead of against
/// a baseline entry. A failure points at the second model's layer that grew most and names the
/// three that grew most.
/// </summary>
public static class ChangeBudgets
{
    public static IReadOnlyList<Diagnostic> Evaluate(ModelDiff diff, BudgetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(diff);
        ArgumentNullException.ThrowIfNull(settings);
        var first = ModelMetrics.FromReport(diff.Before, diff.Before.ModelPath);
        var second = ModelMetrics.FromReport(diff.After, diff.After.ModelPath);
        var growth = PerLayerGrowth(second, diff);
        var diagnostics = new List<Diagnostic>();
        foreach (var metric in BudgetMetric.All)
        {
            if (!settings.Increase.TryGetValue(metric, out var limit))
            {
                continue;
            }

            var before = first.Value(metric);
            var after = second.Value(metric);
            var allowed = limit.Limit.Allowed(before);
            if (after <= allowed)
            {
                continue;
            }

            var (location, layers) = BudgetEvaluator.Contributors(growth, metric, "Layers that grew most");
            diagnostics.Add(DiagnosticCodes.ChangeBudgetExceeded.At(location,
                $"{BudgetEvaluator.Growth(metric, before, $"in '{Path.GetFileName(first.ModelPath)}'", after, limit, allowed)} {layers}"));
        }

        return diagnostics;
    }

    /// <summary>
    /// <paramref name="after"/> (the second model of <paramref name="diff"/>) with each layer's growth in
    /// place of its share, an added layer counting from zero: what <see cref="BudgetEvaluator.Contributors"/>
    /// ranks to name the layers that grew most (here and for a regression against the baseline).
    /// </summary>
    internal static ModelMetrics PerLayerGrowth(ModelMetrics after, ModelDiff diff) =>
        after with { Layers = [.. diff.Layers.Where(r => r.After is not null).Select(Growth)] };

    private static LayerMetrics Growth(LayerDiff row)
    {
        var layer = row.After!;
        var d = row.Delta;
        return new LayerMetrics(layer.Index, layer.Kind, layer.Location, d.Macc, d.Params, d.WeightsBytes, d.ActivationBytes, d.MemoryAccess) { Name = layer.Name };
    }
}
