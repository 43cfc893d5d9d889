using System.Text.Json;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// <c>dotnet neural fuse --format json</c> and <c>convert --format json</c>: what was written, the
/// figures before and after, every pass applied or refused (with its reason), the checks, the phases'
/// times and the warnings, with the <c>schemaVersion</c> discipline of every JSON document of the tool.
/// </summary>
public static class PipelineJson
{
    public const int SchemaVersion = 1;

    public static string Fuse(OptimizeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return JsonText.Document(SchemaVersion, json =>
        {
            json.WriteString("command", "fuse");
            json.WriteString("model", result.DefinitionPath);
            JsonText.WriteStrings(json, "written", result.OptimizedWeightsPath == result.OptimizedDefinitionPath
                ? [result.OptimizedDefinitionPath]
                : [result.OptimizedDefinitionPath, result.OptimizedWeightsPath]);
            Common(json, result.Before, result.After, result.Passes, result.Timings);
            VerificationJson.WriteReportOrNull(json, "verification", result.Verification);
            VerificationJson.WriteReportOrNull(json, "lossyCost", result.LossyCost);
            json.WriteString("lossyCostInputs", result.LossyCostInputs);
            JsonText.WriteDiagnostics(json, result.Warnings);
        });
    }

    /// <param name="result">What the conversion wrote and proved.</param>
    /// <param name="runtimeCheck">The written file run by its runtime against the original (an exact export); null: not run.</param>
    /// <param name="runtimeAccuracy">The same for a lossy export: its measured error; null: not run or exact.</param>
    public static string Convert(ConvertResult result, VerificationReport? runtimeCheck, AccuracyReport? runtimeAccuracy)
    {
        ArgumentNullException.ThrowIfNull(result);
        return JsonText.Document(SchemaVersion, json =>
        {
            json.WriteString("command", "convert");
            json.WriteString("model", result.Before.ModelPath);
            json.WriteString("written", result.OutputPath);
            json.WriteString("settings", result.Export.Settings);
            Common(json, result.Before, result.After, result.Passes, result.Timings);
            VerificationJson.WriteReportOrNull(json, "foldVerification", result.FoldVerification);
            VerificationJson.WriteReportOrNull(json, "exportVerification", result.ExportVerification);
            if (result.NotReadBack is { } why)
            {
                json.WriteString("notReadBack", why);
            }

            WriteAccuracy(json, "exportAccuracy", result.ExportAccuracy);
            VerificationJson.WriteReportOrNull(json, "runtimeCheck", runtimeCheck);
            WriteAccuracy(json, "runtimeAccuracy", runtimeAccuracy);
            JsonText.WriteDiagnostics(json, [.. result.Passes.Warnings, .. result.Export.Warnings]);
        });
    }

    /// <summary>A lossy export's measured error per output, or null.</summary>
    private static void WriteAccuracy(Utf8JsonWriter json, string name, AccuracyReport? accuracy)
    {
        if (accuracy is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WritePropertyName(name);
        json.WriteStartArray();
        foreach (var o in accuracy.Outputs)
        {
            json.WriteStartObject();
            json.WriteString("output", o.Output);
            json.WriteNumber("maxRelativeError", o.MaxRelativeError);
            json.WriteNumber("meanRelativeError", o.MeanRelativeError);
            JsonText.WriteNumberOrNull(json, "top1Agreement", o.Top1Agreement ?? double.NaN);
            JsonText.WriteNumberOrNull(json, "top5Agreement", o.Top5Agreement ?? double.NaN);
            json.WriteNumber("inputs", o.Inputs);
            json.WriteNumber("items", o.Items);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Before and after totals (inspect's figures), the passes and the phases' times.</summary>
    private static void Common(Utf8JsonWriter json, ModelReport before, ModelReport after, PassReport passes, IReadOnlyList<(string Phase, TimeSpan Time)> timings)
    {
        foreach (var (name, report) in new[] { ("before", before), ("after", after) })
        {
            json.WritePropertyName(name);
            json.WriteStartObject();
            json.WriteString("inputShape", report.InputShape);
            json.WriteNumber("layers", report.Layers.Count);
            json.WriteNumber("peakActivationBytes", report.PeakActivationBytes);
            json.WritePropertyName("totals");
            json.WriteStartObject();
            ReportFormatter.WriteFigures(json, report.Totals);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        foreach (var (name, outcome) in new[] { ("applied", PassOutcome.Applied), ("notApplied", PassOutcome.NotApplied) })
        {
            json.WritePropertyName(name);
            json.WriteStartArray();
            foreach (var e in passes.Events.Where(e => e.Outcome == outcome))
            {
                json.WriteStartObject();
                json.WriteString("pass", e.Pass);
                json.WriteNumber("layer", e.Origin.Index);
                json.WriteString("kind", e.Origin.Kind);
                json.WriteString("node", e.Node);
                json.WriteString("file", e.Origin.Location.File);
                json.WriteNumber("line", e.Origin.Location.Line);
                json.WriteString("detail", e.Detail);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WritePropertyName("timings");
        json.WriteStartObject();
        foreach (var (phase, time) in timings)
        {
            json.WriteNumber(phase, Math.Round(time.TotalMilliseconds, 1));
        }

        json.WriteEndObject();
    }
}
