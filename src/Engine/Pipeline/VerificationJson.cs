using System.Text.Json;
using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Pipeline;

/// <summary><c>dotnet neural verify --format json</c>: the two models, the tolerances, the verdict and every comparison.</summary>
public static class VerificationJson
{
    public const int SchemaVersion = 1;

    public static string Write(string original, string optimised, VerificationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonText.Document(SchemaVersion, json =>
        {
            json.WriteString("original", original);
            json.WriteString("optimised", optimised);
            WriteReport(json, report);
        });
    }

    /// <summary>A verification's properties (mode, tolerances, verdict, every comparison) into the open object; shared by <c>verify</c>, <c>fuse</c> and <c>convert</c>.</summary>
    public static void WriteReport(Utf8JsonWriter json, VerificationReport report)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(report);
        json.WriteString("mode", report.Mode.ToString().ToLowerInvariant());
        json.WriteNumber("absoluteTolerance", report.AbsoluteTolerance);
        json.WriteNumber("relativeTolerance", report.RelativeTolerance);
        json.WriteBoolean("passed", report.Passed);
        JsonText.WriteNumberOrNull(json, "maxAbsoluteError", report.MaxAbsoluteError);
        JsonText.WriteNumberOrNull(json, "maxRelativeError", report.MaxRelativeError);
        json.WriteString("summary", report.Summary());
        json.WritePropertyName("comparisons");
        json.WriteStartArray();
        foreach (var c in report.Comparisons)
        {
            json.WriteStartObject();
            json.WriteString("subject", c.Subject);
            json.WriteString("output", c.Output);
            json.WriteNumber("elements", c.Elements);
            JsonText.WriteNumberOrNull(json, "maxAbsoluteError", c.MaxAbsoluteError);
            JsonText.WriteNumberOrNull(json, "maxRelativeError", c.MaxRelativeError);
            JsonText.WriteNumberOrNull(json, "worstExcess", c.WorstExcess);
            json.WriteBoolean("withinTolerance", c.WithinTolerance);
            if (c.RoundingFloor is { } floor)
            {
                JsonText.WriteNumberOrNull(json, "roundingFloor", floor);
                json.WriteNumber("floorFactor", c.FloorFactor);
            }
            else
            {
                json.WriteNull("roundingFloor");
            }

            json.WriteBoolean("passed", c.Passed);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>A verification as a named object, or null when there was none.</summary>
    public static void WriteReportOrNull(Utf8JsonWriter json, string name, VerificationReport? report)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (report is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WritePropertyName(name);
        json.WriteStartObject();
        WriteReport(json, report);
        json.WriteEndObject();
    }
}
