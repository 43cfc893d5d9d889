using System.Globalization;
using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Budgets;

/// <summary>
/// A model's figures against its baseline entry, layer by layer: the accepted layers paired with the
/// current ones exactly as <c>dotnet neural diff</c> pairs two models (<see cref="ModelDiff"/>: by
/// name, then by position and kind). It explains a regression (NM1002 names the layers that grew
/// most) and is the "Changes against the baseline" section of the build's report.md and report.html.
/// </summary>
public sealed class BaselineChanges
{
    private BaselineChanges(ModelDiff diff, ModelMetrics current)
    {
        Diff = diff;
        Growth = ChangeBudgets.PerLayerGrowth(current, diff);
    }

    /// <summary>Accepted layers (first) against current ones (second).</summary>
    public ModelDiff Diff { get; }

    /// <summary>The current metrics with each layer's growth over its accepted figures in place of its share.</summary>
    public ModelMetrics Growth { get; }

    /// <summary>The rows that differ (changed, added, removed), in the current model's order.</summary>
    public IReadOnlyList<LayerDiff> Changed => [.. Diff.Layers.Where(l => l.Change != LayerChange.Unchanged)];

    /// <summary>The changes of <paramref name="current"/> against <paramref name="entry"/>; null when there is no entry or it has no per-layer figures (recorded by an older NeuralBuild).</summary>
    public static BaselineChanges? Between(BaselineEntry? entry, ModelMetrics current)
    {
        ArgumentNullException.ThrowIfNull(current);
        return entry?.Layers is null ? null : new BaselineChanges(ModelDiff.Compare(entry.ToMetrics(current.ModelPath).ToReport(), current.ToReport()), current);
    }

    /// <summary>What to say when the baseline has no per-layer figures to compare.</summary>
    public const string NoLayersNote = "The baseline entry has no per-layer figures (recorded by an older NeuralBuild); record it again to see which layers changed.";

    public static string[] Columns { get; } = ["Change", "Layer", "Kind", "Name", "Line", "Output", "MACC", "Params", "Weights", "Output bytes", "Memory access"];

    /// <summary>The first of the columns holding numbers (right-aligned): the figures.</summary>
    public const int FirstNumericColumn = 6;

    public static bool IsNumeric(int column) => column >= FirstNumericColumn;

    /// <summary><c>3 of 24 layers changed (1 changed, 1 added, 1 removed), paired with the baseline as dotnet neural diff pairs them.</c></summary>
    public string Summary()
    {
        int Count(LayerChange c) => Diff.Layers.Count(l => l.Change == c);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Changed.Count} of {Diff.Layers.Count} layers differ from the baseline ({Count(LayerChange.Changed)} changed, {Count(LayerChange.Added)} added, {Count(LayerChange.Removed)} removed), paired by name, then by position and kind, as dotnet neural diff pairs them; figures are current minus accepted.");
    }

    /// <summary>One table row of <see cref="Columns"/>: where the layer is now (or was, if removed) and the change of each figure.</summary>
    public static string[] Row(LayerDiff row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var layer = (row.After ?? row.Before)!;
        var d = row.Delta;
        var output = row.Before is { } b && row.After is { } a && b.OutputShape != a.OutputShape ? $"{b.OutputShape} -> {a.OutputShape}" : layer.OutputShape;
        return
        [
            row.Change.ToString().ToLowerInvariant(),
            row.Indices,
            row.Kind,
            layer.Name,
            layer.Location.HasLine ? layer.Location.Line.ToString(CultureInfo.InvariantCulture) : string.Empty,
            output,
            HumanUnits.Signed(d.Macc),
            HumanUnits.Signed(d.Params),
            HumanUnits.Signed(d.WeightsBytes),
            HumanUnits.Signed(d.ActivationBytes),
            HumanUnits.Signed(d.MemoryAccess),
        ];
    }
}
