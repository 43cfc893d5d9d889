using System.Globalization;
using System.Text;
using System.Text.Json;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Engine.Pruning;

/// <summary>
/// Renders a <see cref="PrunePlan"/> as a console table, Markdown or JSON (with <c>schemaVersion</c>):
/// per conv layer the channels, the ones to remove with their scores, params / MACC saved exactly and
/// the measured output error of removing them alone; then all of them together.
/// </summary>
public static class PrunePlanFormatter
{
    public static IReadOnlyList<string> Formats { get; } = ["table", "json", "md"];

    public static string Format(PrunePlan plan, string format) => format switch
    {
        "table" => Text(plan, markdown: false),
        "json" => Json(plan),
        "md" => Text(plan, markdown: true),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, $"Use one of {string.Join(", ", Formats)}."),
    };

    /// <summary>Channels the table and Markdown list per layer; JSON lists them all.</summary>
    private const int ListedChannels = 6;

    private static string Score(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>The largest max and mean relative error over the outputs, as percentages.</summary>
    private static (string Max, string Mean) Errors(PruneMeasurement? m) => m is null || m.Outputs.Count == 0
        ? ("-", "-")
        : (OutputAccuracy.Percent(m.Outputs.Max(o => o.MaxRelativeError)), OutputAccuracy.Percent(m.Outputs.Max(o => o.MeanRelativeError)));

    private static string Text(PrunePlan plan, bool markdown)
    {
        var sb = new StringBuilder();
        sb.Append(markdown ? "# prune-plan " : "prune-plan ").Append(plan.ModelPath).Append('\n').Append(markdown ? "\n" : string.Empty);
        sb.Append(CultureInfo.InvariantCulture, $"criterion {plan.Criterion}, {plan.InputSource} at {plan.InputShape}; model: params {HumanUnits.CountWithExact(plan.Before.Params)}, MACC {HumanUnits.CountWithExact(plan.Before.Macc)}\n");
        sb.Append("errors: max / mean |pruned - original| relative to max|original output|, worst output, no retraining\n\n");
        var rows = plan.Layers.Select(l =>
        {
            var (max, mean) = Errors(l.Alone);
            var removed = l.Removed.Count == 0 ? "-" : string.Join(" ", l.Removed.Take(ListedChannels).Select(c => $"{c}:{Score(l.Scores[(int)c])}"))
                + (l.Removed.Count > ListedChannels ? $" … (+{l.Removed.Count - ListedChannels}, all in --format json)" : string.Empty);
            return new[]
            {
                l.Origin.Index.ToString(CultureInfo.InvariantCulture), l.Node, l.Channels.ToString(CultureInfo.InvariantCulture), removed,
                l.Alone is { } a ? HumanUnits.Exact(a.ParamsSaved) : "-", l.Alone is { } b ? HumanUnits.Exact(b.MaccSaved) : "-", max, mean,
                l.Refused is null ? string.Empty : "kept: " + l.Refused,
            };
        }).ToList();
        TextTable.Write(sb, markdown, ["layer", "node", "channels", "remove (channel:score)", "params saved", "MACC saved", "max error", "mean error", "note"], rows, c => c is 0 or 2 or 4 or 5 or 6 or 7);
        sb.Append('\n');
        if (plan.Together is { } t)
        {
            var pruned = plan.Layers.Where(l => l.Refused is null && l.Removed.Count > 0 && !plan.TogetherRefused.ContainsKey(l.Node)).ToList();
            sb.Append(markdown ? "## together\n\n" : "together: ");
            sb.Append(CultureInfo.InvariantCulture, $"{pruned.Sum(l => l.Removed.Count)} channel(s) from {pruned.Count} layer(s): params -{HumanUnits.CountWithExact(t.ParamsSaved)} ({Share(t.ParamsSaved, plan.Before.Params)}), MACC -{HumanUnits.CountWithExact(t.MaccSaved)} ({Share(t.MaccSaved, plan.Before.Macc)}), weight bytes -{HumanUnits.BytesWithExact(t.WeightBytesSaved)}\n");
            foreach (var o in t.Outputs)
            {
                sb.Append(markdown ? "- " : "  ").Append(o).Append('\n');
            }

            foreach (var (node, reason) in plan.TogetherRefused)
            {
                sb.Append(markdown ? "- " : "  ").Append(CultureInfo.InvariantCulture, $"'{node}' kept in combination: {reason}\n");
            }
        }
        else
        {
            sb.Append("together: no layer can lose channels\n");
        }

        foreach (var file in plan.Written)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{(markdown ? "\n" : string.Empty)}written (pruned, not retrained): {file}\n");
        }

        return sb.ToString();
    }

    private static string Share(long part, long whole) => whole == 0 ? "0%" : OutputAccuracy.Percent((double)part / whole);

    private static string Json(PrunePlan plan) => JsonText.Document(PrunePlan.SchemaVersion, json =>
    {
        json.WriteString("model", plan.ModelPath);
        json.WriteString("criterion", plan.Criterion);
        json.WriteNumber("samples", plan.Samples);
        if (plan.Seed is { } seed)
        {
            json.WriteNumber("seed", seed);
        }
        else
        {
            json.WriteNull("seed");
        }

        json.WriteString("inputs", plan.InputSource);
        json.WriteString("inputShape", plan.InputShape);
        json.WriteNumber("params", plan.Before.Params);
        json.WriteNumber("macc", plan.Before.Macc);
        json.WriteNumber("weightsBytes", plan.Before.WeightsBytes);
        json.WriteStartArray("layers");
        foreach (var l in plan.Layers)
        {
            json.WriteStartObject();
            json.WriteNumber("layer", l.Origin.Index);
            json.WriteString("kind", l.Origin.Kind);
            json.WriteString("node", l.Node);
            json.WriteNumber("channels", l.Channels);
            json.WriteStartArray("remove");
            foreach (var c in l.Removed)
            {
                json.WriteStartObject();
                json.WriteNumber("channel", c);
                JsonText.WriteNumberOrNull(json, "score", l.Scores[(int)c]);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("scores");
            foreach (var s in l.Scores)
            {
                // A non-finite score (NaN weights) is null, as JsonText writes any absent number.
                if (double.IsFinite(s))
                {
                    json.WriteNumberValue(s);
                }
                else
                {
                    json.WriteNullValue();
                }
            }

            json.WriteEndArray();
            WriteMeasurement(json, "alone", l.Alone);
            if (l.Refused is null)
            {
                json.WriteNull("refused");
            }
            else
            {
                json.WriteString("refused", l.Refused);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteMeasurement(json, "together", plan.Together);
        json.WriteStartObject("togetherRefused");
        foreach (var (node, reason) in plan.TogetherRefused)
        {
            json.WriteString(node, reason);
        }

        json.WriteEndObject();
        JsonText.WriteStrings(json, "written", plan.Written);
    });

    private static void WriteMeasurement(Utf8JsonWriter json, string name, PruneMeasurement? m)
    {
        if (m is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteNumber("paramsSaved", m.ParamsSaved);
        json.WriteNumber("maccSaved", m.MaccSaved);
        json.WriteNumber("weightsBytesSaved", m.WeightBytesSaved);
        json.WriteStartArray("outputs");
        foreach (var o in m.Outputs)
        {
            json.WriteStartObject();
            json.WriteString("output", o.Output);
            JsonText.WriteNumberOrNull(json, "maxRelativeError", o.MaxRelativeError);
            JsonText.WriteNumberOrNull(json, "meanRelativeError", o.MeanRelativeError);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
