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

    public static void Log(this TaskLoggingHelper log, DiagnosticDescriptor descriptor, string file, string message) =>
        log.Log(descriptor.At(new SourceLocation(file), message));
}
