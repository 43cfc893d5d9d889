using System.Globalization;
using System.Text;
using System.Text.Json;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Analysis;

/// <summary>Renders a <see cref="ModelReport"/> as a table, JSON, CSV or Markdown.</summary>
public static class ReportFormatter
{
    public static IReadOnlyList<string> Formats { get; } = ["table", "json", "csv", "md"];

    public static string Format(ModelReport report, string format) => format switch
    {
        "table" => Table(report),
        "json" => Json(report),
        "csv" => Csv(report),
        "md" => Markdown(report),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, $"Use one of {string.Join(", ", Formats)}."),
    };

    public static string Json(ModelReport report) => JsonText.Document(ModelReport.SchemaVersion, json =>
        {
            json.WriteString("model", report.ModelPath);
            json.WriteString("format", report.Format);
            json.WriteString("inputShape", report.InputShape);
            json.WriteString("convention", report.Convention.Name);
            json.WritePropertyName("totals");
            json.WriteStartObject();
            WriteFigures(json, report.Totals);
            json.WriteNumber("peakActivationBytes", report.PeakActivationBytes);
            json.WriteNumber("peakLayer", report.PeakLayerIndex);
            json.WriteEndObject();
            json.WritePropertyName("layers");
            json.WriteStartArray();
            foreach (var layer in report.Layers)
            {
                json.WriteStartObject();
                json.WriteNumber("index", layer.Index);
                json.WriteString("kind", layer.Kind);
                json.WriteString("name", layer.Name);
                json.WriteNumber("line", layer.Location.Line);
                json.WriteString("outputShape", layer.OutputShape);
                JsonText.WriteStrings(json, "ops", layer.Ops);
                WriteFigures(json, layer.Cost);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });

    /// <summary>Every figure of <paramref name="f"/> as properties of the object being written (inspect's names).</summary>
    internal static void WriteFigures(Utf8JsonWriter json, CostFigures f)
    {
        json.WriteNumber("params", f.Params);
        json.WriteNumber("macc", f.Macc);
        json.WriteNumber("flops", f.Flops);
        json.WriteNumber("memoryAccess", f.MemoryAccess);
        json.WriteNumber("memoryAccessIdeal", f.MemoryAccessIdeal);
        json.WriteNumber("activationBytes", f.ActivationBytes);
        json.WriteNumber("weightsBytes", f.WeightsBytes);
        json.WritePropertyName("secondaryFlops");
        json.WriteStartObject();
        json.WriteNumber("bias", f.Secondary.Bias);
        json.WriteNumber("normalization", f.Secondary.Normalization);
        json.WriteNumber("activation", f.Secondary.Activation);
        json.WriteNumber("pooling", f.Secondary.Pooling);
        json.WriteNumber("elementwise", f.Secondary.Elementwise);
        json.WriteNumber("softmax", f.Secondary.Softmax);
        json.WriteEndObject();
    }

    private static readonly string[] s_columns = ["#", "kind", "line", "output", "params", "macc", "flops", "mem access", "mem ideal", "activation"];

    private static string[] Row(LayerReport l) =>
    [
        l.Index.ToString(CultureInfo.InvariantCulture),
        l.Kind,
        l.Location.Line.ToString(CultureInfo.InvariantCulture),
        l.OutputShape,
        HumanUnits.Exact(l.Cost.Params),
        HumanUnits.Exact(l.Cost.Macc),
        HumanUnits.Exact(l.Cost.Flops),
        HumanUnits.Exact(l.Cost.MemoryAccess),
        HumanUnits.Exact(l.Cost.MemoryAccessIdeal),
        HumanUnits.Exact(l.Cost.ActivationBytes),
    ];

    public static string Table(ModelReport report)
    {
        var rows = report.Layers.Select(Row).ToList();
        var widths = s_columns.Select((c, i) => Math.Max(c.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{report.ModelPath}  input {report.InputShape}  convention {report.Convention.Name}\n\n");
        AppendAligned(sb, s_columns, widths);
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var row in rows)
        {
            AppendAligned(sb, row, widths);
        }

        sb.Append('\n');
        AppendTotals(sb, report, (label, value) => sb.Append(CultureInfo.InvariantCulture, $"{label,-22} {value}\n"));
        return sb.ToString();
    }

    public static string Markdown(ModelReport report)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"## {Path.GetFileName(report.ModelPath)} ({report.InputShape}, convention `{report.Convention.Name}`)\n\n");
        sb.Append("| ").Append(string.Join(" | ", s_columns)).Append(" |\n");
        sb.Append('|').Append(string.Concat(s_columns.Select((c, i) => i < 4 ? "---|" : "---:|"))).Append('\n');
        foreach (var layer in report.Layers)
        {
            sb.Append("| ").Append(string.Join(" | ", Row(layer))).Append(" |\n");
        }

        sb.Append("\n| total | value |\n|---|---:|\n");
        AppendTotals(sb, report, (label, value) => sb.Append(CultureInfo.InvariantCulture, $"| {label} | {value} |\n"));
        return sb.ToString();
    }

    public static string Csv(ModelReport report)
    {
        var sb = new StringBuilder();
        sb.Append("index,kind,name,line,outputShape,params,macc,flops,memoryAccess,memoryAccessIdeal,activationBytes,weightsBytes,biasFlops,normalizationFlops,activationFlops,poolingFlops,elementwiseFlops,softmaxFlops\n");
        foreach (var l in report.Layers)
        {
            var c = l.Cost;
            sb.Append(CultureInfo.InvariantCulture,
                $"{l.Index},{Quote(l.Kind)},{Quote(l.Name)},{l.Location.Line},{l.OutputShape},{c.Params},{c.Macc},{c.Flops},{c.MemoryAccess},{c.MemoryAccessIdeal},{c.ActivationBytes},{c.WeightsBytes},{c.Secondary.Bias},{c.Secondary.Normalization},{c.Secondary.Activation},{c.Secondary.Pooling},{c.Secondary.Elementwise},{c.Secondary.Softmax}\n");
        }

        return sb.ToString();
    }

    private static void AppendTotals(StringBuilder sb, ModelReport report, Action<string, string> line)
    {
        var t = report.Totals;
        line("params", HumanUnits.CountWithExact(t.Params));
        line("macc", HumanUnits.CountWithExact(t.Macc) + " MAC");
        line($"flops ({report.Convention.Name})", HumanUnits.CountWithExact(t.Flops));
        line("memory access", HumanUnits.CountWithExact(t.MemoryAccess) + " elements (naive)");
        line("memory access ideal", HumanUnits.CountWithExact(t.MemoryAccessIdeal) + " elements");
        line("activation bytes", HumanUnits.BytesWithExact(t.ActivationBytes));
        line("peak activation", HumanUnits.BytesWithExact(report.PeakActivationBytes) + $" at layer {report.PeakLayerIndex}");
        line("weights bytes", HumanUnits.BytesWithExact(t.WeightsBytes));
        var s = t.Secondary;
        line("secondary flops", $"bias {HumanUnits.Count(s.Bias)}, bn {HumanUnits.Count(s.Normalization)}, activation {HumanUnits.Count(s.Activation)}, pooling {HumanUnits.Count(s.Pooling)}, elementwise {HumanUnits.Count(s.Elementwise)}, softmax {HumanUnits.Count(s.Softmax)}");
    }

    private static void AppendAligned(StringBuilder sb, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                sb.Append("  ");
            }

            // Text columns left-aligned, numbers right-aligned.
            sb.Append(i is 1 or 3 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
        }

        sb.Append('\n');
    }

    private static string Quote(string s) => s.Contains(',', StringComparison.Ordinal) || s.Contains('"', StringComparison.Ordinal) ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s;

    /// <summary>Diagnostic text in the build's form, for stderr.</summary>
    public static string Diagnostic(Diagnostic diagnostic) => diagnostic.ToString();
}
