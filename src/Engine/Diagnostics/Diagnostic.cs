using System.Globalization;

namespace NeuralBuild.Engine.Diagnostics;

/// <summary>One coded message about a model, with the place in the model file it is about.</summary>
public sealed record Diagnostic(DiagnosticDescriptor Descriptor, string Message, SourceLocation Location)
{
    public string Code => Descriptor.Code;

    public DiagnosticSeverity Severity => Descriptor.Severity;

    /// <summary>The build's canonical form: <c>file(line,col): error NM0011: message</c>.</summary>
    public override string ToString()
    {
        var kind = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var where = Location.ToString();
        return string.Create(CultureInfo.InvariantCulture,
            $"{(where.Length > 0 ? where + ": " : string.Empty)}{kind} {Code}: {Message}");
    }
}
