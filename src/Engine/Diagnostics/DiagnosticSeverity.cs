namespace NeuralBuild.Engine.Diagnostics;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}
