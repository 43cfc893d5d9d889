using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Surgery;

/// <summary>The transplant's report: per outcome, the layers and their parameter counts; per layer, where each parameter came from.</summary>
public static class TransplantReport
{
    public const int SchemaVersion = 1;

    /// <summary>How the report names each outcome, in the order it lists them.</summary>
    public static string Name(LayerOutcome outcome) => outcome switch
    {
        LayerOutcome.Copied => "copied",
        LayerOutcome.CopiedInPart => "copied in part",
        LayerOutcome.Mismatched => "mismatched (not copied)",
        LayerOutcome.NewWeights => "taken from the new weights",
        LayerOutcome.Initialised => "initialised",
        _ => "mixed",
    };

    /// <summary>Markdown: a summary table, then one row per layer with parameters.</summary>
    public static string Text(TransplantResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# transplant {Path.GetFileName(result.FromDefinition)} -> {Path.GetFileName(result.ToDefinition)}\n\n");
        var written = result.WrittenWeights == result.WrittenDefinition ? result.WrittenDefinition : $"{result.WrittenDefinition}, {result.WrittenWeights}";
        sb.Append(CultureInfo.InvariantCulture, $"written: {written}\nseed: {result.Seed}\n\n");

        var summary = Enum.GetValues<LayerOutcome>()
            .Select(o => (Outcome: o, Layers: result.Layers.Where(l => l.Outcome == o).ToList()))
            .Where(g => g.Layers.Count > 0)
            .Select(g => new[] { Name(g.Outcome), Exact(g.Layers.Count), Exact(g.Layers.Sum(l => l.ParameterCount)), Exact(g.Layers.Sum(l => l.CopiedValues)) })
            .ToList();
        TextTable.Markdown(sb, ["outcome", "layers", "parameters", "copied values"], summary, i => i > 0);

        sb.Append("\n## layers\n\n");
        var rows = result.Layers.Select(l => new[]
        {
            l.Name, l.Kind, Name(l.Outcome), l.OldLayer ?? "-", Exact(l.ParameterCount), Exact(l.CopiedValues), Detail(l),
        }).ToList();
        TextTable.Markdown(sb, ["layer", "kind", "outcome", "old layer", "parameters", "copied", "detail"], rows, i => i is 4 or 5);

        if (result.UnusedOldLayers.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nold layers no new layer took from: {string.Join(", ", result.UnusedOldLayers)}\n");
        }

        return sb.ToString();
    }

    public static string Json(TransplantResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return JsonText.Document(SchemaVersion, json =>
        {
            json.WriteString("from", result.FromDefinition);
            json.WriteString("to", result.ToDefinition);
            json.WriteString("writtenDefinition", result.WrittenDefinition);
            json.WriteString("writtenWeights", result.WrittenWeights);
            json.WriteNumber("seed", result.Seed);
            json.WriteStartArray("layers");
            foreach (var layer in result.Layers)
            {
                json.WriteStartObject();
                json.WriteString("name", layer.Name);
                json.WriteString("kind", layer.Kind);
                json.WriteString("outcome", Name(layer.Outcome));
                json.WriteString("oldLayer", layer.OldLayer);
                json.WriteNumber("parameters", layer.ParameterCount);
                json.WriteNumber("copiedValues", layer.CopiedValues);
                json.WriteStartArray("tensors");
                foreach (var p in layer.Parameters)
                {
                    json.WriteStartObject();
                    json.WriteString("name", p.Name);
                    json.WriteString("role", p.Role);
                    json.WriteString("shape", p.Shape.ToString());
                    json.WriteString("oldShape", p.OldShape?.ToString());
                    json.WriteString("source", p.Source.ToString());
                    json.WriteNumber("copiedValues", p.CopiedValues);
                    json.WriteString("rest", p.Rest);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            JsonText.WriteStrings(json, "unusedOldLayers", result.UnusedOldLayers);
            JsonText.WriteDiagnostics(json, result.Warnings);
        });
    }

    /// <summary>What the reader needs beyond the outcome: the shapes of a mismatch, the rule that initialised.</summary>
    private static string Detail(TransplantedLayer layer)
    {
        var parts = new List<string>();
        foreach (var p in layer.Parameters)
        {
            var mismatch = p.OldShape is { } old && !old.Equals(p.Shape) ? $" {p.Shape} (old {old})" : string.Empty;
            var source = p.Source switch
            {
                ParameterSource.Copied => null,
                ParameterSource.CopiedInPart => string.Create(CultureInfo.InvariantCulture, $"{p.CopiedValues:N0} of {p.Count:N0} copied, rest {p.Rest}"),
                _ => p.Rest,
            };
            if (mismatch.Length > 0 || source is not null)
            {
                parts.Add($"{p.Role}{mismatch}{(source is null ? string.Empty : ": " + source)}");
            }
        }

        return string.Join("; ", parts);
    }

    private static string Exact(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
