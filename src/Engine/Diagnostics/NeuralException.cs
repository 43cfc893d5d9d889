namespace NeuralBuild.Engine.Diagnostics;

/// <summary>
/// The one exception type the engine throws for bad or unsupported input. It always carries a
/// documented code and, where the input has one, the file/line/column it is about. Anything else
/// escaping the engine is a bug.
/// </summary>
public sealed class NeuralException : Exception
{
    public NeuralException(Diagnostic diagnostic)
        : base(diagnostic.Message) => Diagnostic = diagnostic;

    public NeuralException(DiagnosticDescriptor descriptor, SourceLocation location, string message)
        : this(new Diagnostic(descriptor, message, location))
    {
    }

    public Diagnostic Diagnostic { get; }

    public string Code => Diagnostic.Code;

    public SourceLocation Location => Diagnostic.Location;

    public override string ToString() => Diagnostic.ToString();
}
