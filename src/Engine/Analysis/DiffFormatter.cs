using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// Renders a <see cref="ModelDiff"/> as a console table, JSON (with <c>schemaVersion</c>, as
/// <c>inspect</c>'s), Markdown or a self-contained HTML page. Every text format shows the same two
/// tables, built once: the layers (one row per pair, addition or removal) and the totals.
/// </summary>
public static class DiffFormatter
{
    public static IReadOnlyList<string> Formats { get; } = ["table", "json", "md", "html"];

    /// <summary><paramref name="verdicts"/>: the budget-of-change diagnostics, listed in the JSON (the other formats leave them to stderr).</summary>
    public static string Format(ModelDiff diff, string format, IReadOnlyList<Diagnostic>? verdicts = null) => format switch
    {
        "table" => Table(diff),
        "json" => Json(diff, verdicts ?? []),
        "md" => Markdown(diff),
        "html" => Html(diff),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, $"Use one of {string.Join(", ", Formats)}."),
    };

    private static readonly string[] s_layerColumns = ["change", "layer", "kind", "name", "output", "params", "macc", "flops", "mem access", "mem ideal", "activation", "weights", "ops"];

    /// <summary>Columns holding numbers (right-aligned).</summary>
    private static bool IsNumeric(int column) => column is >= 5 and <= 11;

    private static readonly string[] s_totalColumns = ["total", "first", "second", "change", "%"];

    private static string[] LayerRow(LayerDiff row)
    {
        var d = row.Delta;
        var layer = (row.After ?? row.Before)!;
        var output = row.Before is { } b && row.After is { } a && b.OutputShape != a.OutputShape ? $"{b.OutputShape} -> {a.OutputShape}" : layer.OutputShape;
        var ops = string.Join(" ", row.OpsRemoved.Select(o => "-" + o).Concat(row.OpsAdded.Select(o => "+" + o)));
        return
        [
            Word(row.Change),
            row.Indices,
            row.Kind,
            layer.Name,
            output,
            HumanUnits.Signed(d.Params),
            HumanUnits.Signed(d.Macc),
            HumanUnits.Signed(d.Flops),
            HumanUnits.Signed(d.MemoryAccess),
            HumanUnits.Signed(d.MemoryAccessIdeal),
            HumanUnits.Signed(d.ActivationBytes),
            HumanUnits.Signed(d.WeightsBytes),
            ops,
        ];
    }

    private static string Word(LayerChange change) => change switch
    {
        LayerChange.Unchanged => "same",
        LayerChange.Changed => "changed",
        LayerChange.Added => "added",
        _ => "removed",
    };

    private static List<string[]> TotalRows(ModelDiff diff)
    {
        var (a, b) = (diff.Before.Totals, diff.After.Totals);
        string[] Row(string name, long before, long after) =>
        [
            name,
            HumanUnits.Exact(before),
            HumanUnits.Exact(after),
            HumanUnits.Signed(after - before),
            before == 0 ? (after == 0 ? "0%" : "new") : ((decimal)(after - before) * 100m / before).ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture) + "%",
        ];
        return
        [
            Row("params", a.Params, b.Params),
            Row("macc", a.Macc, b.Macc),
            Row($"flops ({diff.After.Convention.Name})", a.Flops, b.Flops),
            Row("memory access", a.MemoryAccess, b.MemoryAccess),
            Row("memory access ideal", a.MemoryAccessIdeal, b.MemoryAccessIdeal),
            Row("activation bytes", a.ActivationBytes, b.ActivationBytes),
            Row("peak activation bytes", diff.Before.PeakActivationBytes, diff.After.PeakActivationBytes),
            Row("weights bytes", a.WeightsBytes, b.WeightsBytes),
        ];
    }

    private static string Heading(ModelDiff diff) =>
        $"{diff.Before.ModelPath} ({diff.Before.InputShape}) -> {diff.After.ModelPath} ({diff.After.InputShape})";

    private static string Summary(ModelDiff diff)
    {
        int Count(LayerChange c) => diff.Layers.Count(l => l.Change == c);
        return $"{diff.Layers.Count} rows: {Count(LayerChange.Changed)} changed, {Count(LayerChange.Unchanged)} same, {Count(LayerChange.Added)} added, {Count(LayerChange.Removed)} removed";
    }

    public static string Table(ModelDiff diff) => Text(diff, markdown: false);

    public static string Markdown(ModelDiff diff) => Text(diff, markdown: true);

    private static string Text(ModelDiff diff, bool markdown)
    {
        var sb = new StringBuilder();
        sb.Append(markdown ? $"## diff {Path.GetFileName(diff.Before.ModelPath)} ({diff.Before.InputShape}) -> {Path.GetFileName(diff.After.ModelPath)} ({diff.After.InputShape})" : Heading(diff)).Append("\n\n");
        TextTable.Write(sb, markdown, s_layerColumns, diff.Layers.Select(LayerRow).ToList(), IsNumeric);
        sb.Append('\n').Append(Summary(diff)).Append("\n\n");
        TextTable.Write(sb, markdown, s_totalColumns, TotalRows(diff), column => column > 0);
        return sb.ToString();
    }

    /// <summary>A self-contained page (inline CSS, no script, no network): the two tables.</summary>
    public static string Html(ModelDiff diff)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
        sb.Append(WebUtility.HtmlEncode("diff " + Path.GetFileName(diff.Before.ModelPath) + " -> " + Path.GetFileName(diff.After.ModelPath)));
        sb.Append("</title>\n<style>\nbody{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}"
            + "th,td{border:1px solid #ccc;padding:2px 6px}td.n{text-align:right;font-variant-numeric:tabular-nums}"
            + "tr.added{background:#e6ffe6}tr.removed{background:#ffe6e6}tr.changed{background:#fff8e0}\n</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(WebUtility.HtmlEncode(Heading(diff))).Append("</h1>\n");
        sb.Append("<p>").Append(WebUtility.HtmlEncode(Summary(diff))).Append("</p>\n");
        HtmlTable(sb, s_layerColumns, diff.Layers.Select(r => (Word(r.Change), LayerRow(r))), IsNumeric);
        HtmlTable(sb, s_totalColumns, TotalRows(diff).Select(r => ("total", r)), column => column > 0);
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private static void HtmlTable(StringBuilder sb, string[] columns, IEnumerable<(string Class, string[] Cells)> rows, Func<int, bool> numeric)
    {
        sb.Append("<table>\n<tr>").Append(string.Concat(columns.Select(c => $"<th>{WebUtility.HtmlEncode(c)}</th>"))).Append("</tr>\n");
        foreach (var (cls, cells) in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr class=\"{cls}\">");
            sb.Append(string.Concat(cells.Select((c, i) => (numeric(i) ? "<td class=\"n\">" : "<td>") + WebUtility.HtmlEncode(c) + "</td>")));
            sb.Append("</tr>\n");
        }

        sb.Append("</table>\n");
    }

    public static string Json(ModelDiff diff, IReadOnlyList<Diagnostic> verdicts) => JsonText.Document(ModelDiff.SchemaVersion, json =>
        {
            json.WriteString("convention", diff.After.Convention.Name);
            WriteModel(json, "first", diff.Before);
            WriteModel(json, "second", diff.After);
            json.WritePropertyName("totals");
            json.WriteStartObject();
            WriteTotals(json, "first", diff.Before.Totals, diff.Before.PeakActivationBytes);
            WriteTotals(json, "second", diff.After.Totals, diff.After.PeakActivationBytes);
            WriteTotals(json, "delta", diff.TotalsDelta, diff.PeakActivationDelta);
            json.WriteEndObject();
            json.WritePropertyName("layers");
            json.WriteStartArray();
            foreach (var row in diff.Layers)
            {
                json.WriteStartObject();
                json.WriteString("change", Word(row.Change));
                json.WriteString("matchedBy", row.MatchedBy.ToString().ToLowerInvariant());
                json.WriteString("kind", row.Kind);
                WriteLayer(json, "first", row.Before);
                WriteLayer(json, "second", row.After);
                json.WritePropertyName("delta");
                json.WriteStartObject();
                ReportFormatter.WriteFigures(json, row.Delta);
                json.WriteEndObject();
                JsonText.WriteStrings(json, "opsRemoved", row.OpsRemoved);
                JsonText.WriteStrings(json, "opsAdded", row.OpsAdded);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            JsonText.WriteDiagnostics(json, verdicts);
        });

    private static void WriteModel(Utf8JsonWriter json, string name, ModelReport report)
    {
        json.WritePropertyName(name);
        json.WriteStartObject();
        json.WriteString("model", report.ModelPath);
        json.WriteString("format", report.Format);
        json.WriteString("inputShape", report.InputShape);
        json.WriteNumber("layerCount", report.Layers.Count);
        json.WriteEndObject();
    }

    private static void WriteTotals(Utf8JsonWriter json, string name, CostFigures figures, long peakActivationBytes)
    {
        json.WritePropertyName(name);
        json.WriteStartObject();
        ReportFormatter.WriteFigures(json, figures);
        json.WriteNumber("peakActivationBytes", peakActivationBytes);
        json.WriteEndObject();
    }

    private static void WriteLayer(Utf8JsonWriter json, string name, LayerReport? layer)
    {
        if (layer is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WritePropertyName(name);
        json.WriteStartObject();
        json.WriteNumber("index", layer.Index);
        json.WriteString("name", layer.Name);
        json.WriteNumber("line", layer.Location.Line);
        json.WriteString("outputShape", layer.OutputShape);
        JsonText.WriteStrings(json, "ops", layer.Ops);
        json.WriteEndObject();
    }
}
