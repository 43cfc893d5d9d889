using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// What a build knows about one model after its check: the figures, every budget with its margin,
/// the baseline's figures beside the current ones, the verdicts, and the per-layer breakdown. It is a
/// function of the metrics file, the budget settings and the baseline only, so the always-running
/// check step can write it on every build and a no-op build produces the same bytes.
/// </summary>
public sealed record BuildReport(ModelMetrics Metrics, IReadOnlyList<BudgetMargin> Budgets, BaselineEntry? Baseline, IReadOnlyList<Diagnostic> Verdicts)
{
    /// <summary>The metrics the totals table lists, in order: every budgeted one, then FLOPs and total activations.</summary>
    private static readonly (string Key, string Label, Func<long, string> Format)[] s_totals =
    [
        .. BudgetMetric.All.Select(m => (m.Key, m.Label, (Func<long, string>)m.Rounded)),
        ("flops", "FLOPs", HumanUnits.Count),
        ("activationBytes", "all activations", HumanUnits.Bytes),
    ];

    /// <summary><c>MaxOutputError</c>, checked against the measured error of a lossy export (0 for an exact model).</summary>
    public OutputErrorBudget? MaxOutputError { get; init; }

    private double OutputError => Metrics.Accuracy?.Worst.MaxRelativeError ?? 0;

    /// <summary>The one-line summary of the budgets: <c>MACC 2.78 GMAC of MaxMacc 3G (93%); …</c>, or that none is set.</summary>
    public string BudgetSummary()
    {
        IEnumerable<string> parts = Budgets.Select(b => b.Describe());
        if (MaxOutputError is { } budget)
        {
            parts = parts.Append($"output error {OutputErrorBudget.Percent(OutputError)} of {budget.Setting} {budget.Text}" +
                (budget.Value > 0 ? $" ({BudgetMargin.Percent(OutputError / budget.Value)})" : string.Empty));
        }

        var text = string.Join("; ", parts);
        return text.Length == 0 ? "no budget set" : text;
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        var model = Metrics.ModelPath;
        sb.Append("# ").Append(Path.GetFileName(model)).Append("\n\n");
        sb.Append("Model: `").Append(model).Append('`');
        foreach (var (setting, value) in Metrics.Optimizer.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.Append(" · ").Append(setting).Append(": ").Append(value);
        }

        sb.Append("\n\n## Budgets\n\n");
        if (Budgets.Count == 0 && MaxOutputError is null)
        {
            sb.Append("No budget is set. Set `MaxMacc`, `MaxParams`, `MaxWeightsSize`, `MaxPeakActivation` or `MaxMemoryAccess` (or their `Warn…` forms) on the `NeuralModel` item or as `Neural…` properties.\n");
        }
        else
        {
            List<string[]> budgetRows = [.. Budgets.Select(b => new[]
            {
                $"{b.Budget.Setting}={b.Budget.Text}",
                b.Level == DiagnosticSeverity.Error ? "yes" : "no (warning)",
                b.Metric.Rounded(b.Value),
                b.Metric.Rounded(b.Budget.Value),
                b.Used is { } used ? BudgetMargin.Percent(used) : "-",
                b.Exceeded ? $"**over by {b.Metric.Rounded(-b.Margin)}**" : b.Metric.Rounded(b.Margin),
            })];
            if (MaxOutputError is { } budget)
            {
                budgetRows.Add(
                [
                    $"{budget.Setting}={budget.Text}",
                    "yes",
                    OutputErrorBudget.Percent(OutputError),
                    OutputErrorBudget.Percent(budget.Value),
                    budget.Value > 0 ? BudgetMargin.Percent(OutputError / budget.Value) : "-",
                    OutputError > budget.Value ? $"**over by {OutputErrorBudget.Percent(OutputError - budget.Value)}**" : OutputErrorBudget.Percent(budget.Value - OutputError),
                ]);
            }

            TextTable.Markdown(sb, ["Budget", "Fails the build", "Value", "Limit", "Used", "Margin"], budgetRows, i => i >= 2);
        }

        if (Metrics.Accuracy is { } accuracy)
        {
            sb.Append("\n## Accuracy of the quantized export (").Append(accuracy.Encoding).Append(")\n\n");
            TextTable.Markdown(sb, ["Output", "Max error", "Mean error", "Top-1 agreement"],
                [.. accuracy.Outputs.Select(o => new[]
                {
                    o.Output,
                    OutputErrorBudget.Percent(o.MaxRelativeError),
                    OutputErrorBudget.Percent(o.MeanRelativeError),
                    o.Top1Agreement is { } top1 ? BudgetMargin.Percent(top1) : "-",
                })],
                i => i >= 1);
            sb.Append("\nErrors are relative to the output's magnitude (max |original|), measured on ").Append(accuracy.MeasuredOn)
                .Append("; a layer's \"error alone\" below is the output error with only that layer quantized (its weights, and with calibrated activations (int8-static) its input and output rounded), on the first of them.\n");
        }

        sb.Append("\n## Totals\n\n");
        var rows = new List<string[]>();
        foreach (var (key, label, format) in s_totals)
        {
            var value = Metrics.Totals.TryGetValue(key, out var v) ? v : 0;
            var row = new List<string> { label, format(value), HumanUnits.Exact(value) };
            if (Baseline is not null)
            {
                row.AddRange(Baseline.Metrics.TryGetValue(key, out var before)
                    ? [HumanUnits.Exact(before), Change(before, value)]
                    : ["-", "-"]);
            }

            rows.Add([.. row]);
        }

        string[] columns = Baseline is null ? ["Metric", "Value", "Exact"] : ["Metric", "Value", "Exact", "Baseline", "Change"];
        TextTable.Markdown(sb, columns, rows, i => i >= 1);
        if (Baseline is not null)
        {
            sb.Append("\nBaseline: `").Append(Baseline.Key).Append('`');
            if (Baseline.AcceptedWhen is not null)
            {
                sb.Append(", accepted ").Append(Baseline.AcceptedWhen);
            }

            if (Baseline.AcceptedWhy is not null)
            {
                sb.Append(" (").Append(Baseline.AcceptedWhy).Append(')');
            }

            sb.Append(".\n");
            BaselineSection(sb);
        }

        sb.Append("\n## Verdicts\n\n");
        if (Verdicts.Count == 0)
        {
            sb.Append("Every budget and the baseline are met; no warning.\n");
        }
        else
        {
            foreach (var d in Verdicts)
            {
                sb.Append("- ").Append(d.ToString().Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            }
        }

        sb.Append("\n## Layers\n\n");
        var macc = Math.Max(1, Metrics.Value(BudgetMetric.Macc));
        var quantized = Metrics.Layers.Any(l => l.OutputError is not null);
        string[] layerColumns = ["#", "Layer", "Name", "Line", "Output", "Reads", "MACC", "Share", "Params", "Weights", "Output bytes", "Memory access"];
        TextTable.Markdown(sb, quantized ? [.. layerColumns, "Error alone"] : layerColumns,
            [.. Metrics.Layers.Select(l => new[]
            {
                l.Index.ToString(CultureInfo.InvariantCulture),
                l.Index == Metrics.PeakLayerIndex ? $"{l.Kind} (peak activation)" : l.Kind,
                l.Name,
                l.Location.HasLine ? l.Location.Line.ToString(CultureInfo.InvariantCulture) : string.Empty,
                l.OutputShape,
                l.Inputs.Count == 0 ? "input" : string.Join(", ", l.Inputs.Select(i => i.ToString(CultureInfo.InvariantCulture))),
                HumanUnits.Count(l.Macc),
                BudgetMargin.Percent((double)l.Macc / macc, "0.0"),
                HumanUnits.Count(l.Params),
                HumanUnits.Bytes(l.WeightsBytes),
                HumanUnits.Bytes(l.ActivationBytes),
                HumanUnits.Count(l.MemoryAccess),
                l.OutputError is { } error ? OutputErrorBudget.Percent(error) : string.Empty,
            }.Take(quantized ? layerColumns.Length + 1 : layerColumns.Length).ToArray())],
            i => i is 0 or >= 6);
        return sb.ToString();
    }

    /// <summary>"Changes against the baseline": the layers that differ from the accepted ones, as <c>dotnet neural diff</c> pairs them.</summary>
    private void BaselineSection(StringBuilder sb)
    {
        sb.Append("\n## Changes against the baseline\n\n");
        if (BaselineChanges.Between(Baseline, Metrics) is not { } changes)
        {
            sb.Append(BaselineChanges.NoLayersNote).Append('\n');
            return;
        }

        sb.Append(changes.Summary()).Append('\n');
        if (changes.Changed.Count > 0)
        {
            sb.Append('\n');
            TextTable.Markdown(sb, BaselineChanges.Columns, [.. changes.Changed.Select(BaselineChanges.Row)], BaselineChanges.IsNumeric);
        }
    }

    private static string Change(long before, long value) =>
        value == before ? "0"
        : before == 0 ? HumanUnits.Signed(value - before)
        : $"{HumanUnits.Signed(value - before)} ({((double)(value - before) / before).ToString("+0.##%;-0.##%", CultureInfo.InvariantCulture)})";
}
