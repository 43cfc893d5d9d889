using System.Globalization;
using System.Text;
using System.Text.Json;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Profiling;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Renders a <see cref="ModelProfile"/> as a console table, JSON (with <c>schemaVersion</c>) or
/// Markdown: per layer, per op kind with its share, tensor against non-tensor layers, and the sum of
/// the layers beside the measured whole forward pass; as read and, when profiled, folded.
/// </summary>
public static class ProfileFormatter
{
    public static IReadOnlyList<string> Formats { get; } = ["table", "json", "md"];

    public static string Format(ModelProfile profile, string format, IReadOnlyList<Diagnostic>? warnings = null) => format switch
    {
        "table" => Text(profile, markdown: false),
        "json" => Json(profile, warnings ?? []),
        "md" => Text(profile, markdown: true),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, $"Use one of {string.Join(", ", Formats)}."),
    };

    /// <summary>
    /// NM2021 for each profile whose layers add up to more than 10% away from its whole forward pass:
    /// the two are measured separately, so only disturbed measurements disagree that much.
    /// </summary>
    public static IReadOnlyList<Diagnostic> Check(ModelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return [.. Stages(profile)
            .Where(s => s.Profile.SumDeviation > 0.10)
            .Select(s => DiagnosticCodes.ProfileSumDiverges.At(new SourceLocation(profile.ModelPath),
                $"{s.Name}: the per-layer medians add up to {Ms(s.Profile.LayersMilliseconds)} ms but the whole forward pass took {Ms(s.Profile.ForwardPassMilliseconds)} ms (median of {s.Profile.Runs} runs), {s.Profile.SumDeviation:P0} apart: the machine was busy or the runs too few; the shares are less reliable. Run with more --runs and --warmup on an idle machine."))];
    }

    private static IEnumerable<(string Name, string Key, GraphProfile Profile)> Stages(ModelProfile profile) =>
        profile.Folded is { } folded ? [("as read", "asRead", profile.Before), ("folded", "folded", folded)] : [("as read", "asRead", profile.Before)];

    private static string Ms(double milliseconds) => milliseconds.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Share(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    internal static string Category(LayerCategory category) => category == LayerCategory.Tensor ? "tensor" : "non-tensor";

    private static readonly string[] s_layerColumns = ["step", "layer", "kind", "name", "op", "category", "median ms", "share"];

    private static string Text(ModelProfile profile, bool markdown)
    {
        var sb = new StringBuilder();
        var p = profile.Before;
        var heading = $"{profile.ModelPath}  input {profile.InputShape}  median of {p.Runs} run(s) after {p.Warmup} warm-up, {p.Threads} thread(s)";
        sb.Append(markdown ? "## profile " : string.Empty).Append(heading).Append("\n\n");
        void Table(string[] columns, List<string[]> rows, Func<int, bool> rightAligned)
        {
            TextTable.Write(sb, markdown, columns, rows, rightAligned);
            sb.Append('\n');
        }

        foreach (var (name, _, stage) in Stages(profile))
        {
            var title = name == "folded" ? $"folded ({profile.FoldsApplied} folds applied)" : name;
            sb.Append(markdown ? "### " : string.Empty).Append(title).Append(markdown ? "\n\n" : ":\n");
            var total = stage.LayersMilliseconds;
            Table(
                s_layerColumns,
                [.. stage.Layers.Select(l => new[]
                {
                    l.Step.ToString(CultureInfo.InvariantCulture), l.Origin.Index.ToString(CultureInfo.InvariantCulture), l.Origin.Kind, l.NodeName, l.Op, Category(l.Category),
                    Ms(l.MedianMilliseconds), Share(total > 0 ? l.MedianMilliseconds / total : 0),
                })],
                column => column is 0 or 1 or 6 or 7);
        }

        var stages = Stages(profile).ToList();
        sb.Append(markdown ? "### by kind\n\n" : "by kind:\n");
        string[] kindColumns = ["op", "category", .. stages.SelectMany(s => new[] { $"{s.Name} layers", $"{s.Name} ms", $"{s.Name} share" })];
        var ops = stages.SelectMany(s => s.Profile.Kinds).Select(k => (k.Op, k.Category)).Distinct().ToList();
        Table(
            kindColumns,
            [.. ops.Select(op => new[] { op.Op, Category(op.Category) }.Concat(stages.SelectMany(s =>
                s.Profile.Kinds.FirstOrDefault(k => k.Op == op.Op) is { } k
                    ? new[] { k.Layers.ToString(CultureInfo.InvariantCulture), Ms(k.Milliseconds), Share(k.Share) }
                    : ["0", "-", "-"])).ToArray())],
            column => column >= 2);

        sb.Append(markdown ? "### totals\n\n" : "totals:\n");
        string[] TotalRow(string label, Func<GraphProfile, double> value, bool share = true) =>
            [label, .. stages.SelectMany(s => new[] { Ms(value(s.Profile)), share ? Share(s.Profile.LayersMilliseconds > 0 ? value(s.Profile) / s.Profile.LayersMilliseconds : 0) : string.Empty })];
        Table(
            ["", .. stages.SelectMany(s => new[] { $"{s.Name} ms", $"{s.Name} share" })],
            [
                TotalRow("tensor layers", s => s.Milliseconds(LayerCategory.Tensor)),
                TotalRow("non-tensor layers", s => s.Milliseconds(LayerCategory.NonTensor)),
                TotalRow("sum of layers", s => s.LayersMilliseconds),
                TotalRow("whole forward pass", s => s.ForwardPassMilliseconds, share: false),
            ],
            column => column > 0);
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    public static string Json(ModelProfile profile, IReadOnlyList<Diagnostic> warnings)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return JsonText.Document(ModelProfile.SchemaVersion, json =>
        {
            json.WriteString("model", profile.ModelPath);
            json.WriteString("inputShape", profile.InputShape);
            json.WriteNumber("runs", profile.Before.Runs);
            json.WriteNumber("warmup", profile.Before.Warmup);
            json.WriteNumber("threads", profile.Before.Threads);
            // The model as read is the document's own layers and totals; the folded model is nested.
            WriteStage(json, profile.Before);
            if (profile.Folded is { } folded)
            {
                json.WritePropertyName("folded");
                json.WriteStartObject();
                json.WriteNumber("foldsApplied", profile.FoldsApplied);
                WriteStage(json, folded);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("folded");
            }

            JsonText.WriteDiagnostics(json, warnings);
        });
    }

    private static void WriteStage(Utf8JsonWriter json, GraphProfile stage)
    {
        json.WritePropertyName("layers");
        json.WriteStartArray();
        foreach (var l in stage.Layers)
        {
            json.WriteStartObject();
            json.WriteNumber("step", l.Step);
            json.WriteNumber("layer", l.Origin.Index);
            json.WriteString("kind", l.Origin.Kind);
            json.WriteString("name", l.NodeName);
            json.WriteNumber("line", l.Origin.Location.Line);
            json.WriteString("op", l.Op);
            json.WriteString("category", Category(l.Category));
            json.WriteNumber("medianMs", l.MedianMilliseconds);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WritePropertyName("kinds");
        json.WriteStartArray();
        foreach (var k in stage.Kinds)
        {
            json.WriteStartObject();
            json.WriteString("op", k.Op);
            json.WriteString("category", Category(k.Category));
            json.WriteNumber("layers", k.Layers);
            json.WriteNumber("ms", k.Milliseconds);
            json.WriteNumber("share", k.Share);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WritePropertyName("totals");
        json.WriteStartObject();
        json.WriteNumber("totalMs", stage.LayersMilliseconds);
        json.WriteNumber("tensorMs", stage.Milliseconds(LayerCategory.Tensor));
        json.WriteNumber("nonTensorMs", stage.Milliseconds(LayerCategory.NonTensor));
        json.WriteNumber("forwardPassMs", stage.ForwardPassMilliseconds);
        if (stage.StepCoverage is { } coverage)
        {
            json.WriteNumber("stepCoverage", coverage);
        }

        json.WriteEndObject();
    }
}
