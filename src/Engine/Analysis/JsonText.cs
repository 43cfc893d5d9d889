using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Analysis;

/// <summary>What every JSON document of the tool shares: indented UTF-8, one object, a final newline, and how lists and diagnostics are written.</summary>
public static class JsonText
{
    /// <summary>One JSON object whose properties <paramref name="properties"/> writes, starting with its <c>schemaVersion</c>.</summary>
    public static string Document(int schemaVersion, Action<Utf8JsonWriter> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", schemaVersion);
            properties(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WritePropertyName(name);
        json.WriteStartArray();
        foreach (var v in values)
        {
            json.WriteStringValue(v);
        }

        json.WriteEndArray();
    }

    /// <summary>A <c>diagnostics</c> array: each diagnostic's code, severity, file, line, column and message.</summary>
    public static void WriteDiagnostics(Utf8JsonWriter json, IEnumerable<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WritePropertyName("diagnostics");
        json.WriteStartArray();
        foreach (var d in diagnostics)
        {
            json.WriteStartObject();
            json.WriteString("code", d.Code);
            json.WriteString("severity", d.Severity.ToString().ToLowerInvariant());
            json.WriteString("file", d.Location.File);
            json.WriteNumber("line", d.Location.Line);
            json.WriteNumber("column", d.Location.Column);
            json.WriteString("message", d.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>A number, or null where it is not finite (JSON has no NaN or infinity): an error measured on NaN outputs.</summary>
    public static void WriteNumberOrNull(Utf8JsonWriter json, string name, double value)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
