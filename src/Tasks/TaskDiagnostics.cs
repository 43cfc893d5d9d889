using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Tasks;

/// <summary>Logs engine diagnostics in the build's canonical form: <c>yolo.cfg(22,1): error NM1001: …</c>.</summary>
internal static class TaskDiagnostics
{
    public static void Log(this TaskLoggingHelper log, Diagnostic diagnostic)
    {
        var where = diagnostic.Location;
        var line = where.HasLine ? where.Line : 0;
        var column = where.HasLine ? Math.Max(where.Column, 1) : 0;
        if (diagnostic.Severity == DiagnosticSeverity.Error)
        {
            log.LogError(null, diagnostic.Code, null, where.File, line, column, 0, 0, diagnostic.Message);
        }
        else
        {
            log.LogWarning(null, diagnostic.Code, null, where.File, line, column, 0, 0, diagnostic.Message);
        }
    }

    /// <summary>
    /// A message formatted here, with the invariant culture, and logged without format arguments:
    /// an event that carries them is formatted again wherever it is read (another node of a
    /// <c>-m</c> build, a binary log replay), without the format's culture or number format.
    /// </summary>
    public static void Message(this TaskLoggingHelper log, MessageImportance importance, FormattableString message) =>
        log.LogMessage(importance, message.ToString(CultureInfo.InvariantCulture));

    public static void Log(this TaskLoggingHelper log, DiagnosticDescriptor descriptor, string file, string message) =>
        log.Log(descriptor.At(new SourceLocation(file), message));
}
