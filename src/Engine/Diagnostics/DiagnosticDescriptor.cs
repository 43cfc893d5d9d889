namespace NeuralBuild.Engine.Diagnostics;

/// <summary>A documented diagnostic code. Every instance lives in <see cref="DiagnosticCodes"/>.</summary>
public sealed record DiagnosticDescriptor(string Code, DiagnosticSeverity Severity, string Title)
{
    public NeuralException Exception(SourceLocation location, string message) => new(this, location, message);

    public Diagnostic At(SourceLocation location, string message) => new(this, message, location);
}
