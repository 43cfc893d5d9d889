namespace NeuralBuild.Engine.Diagnostics;

/// <summary>Where in a model file something came from. Line and column are 1-based; 0 means unknown.</summary>
public sealed record SourceLocation(string File, int Line = 0, int Column = 0)
{
    public static SourceLocation None { get; } = new(string.Empty);

    public bool HasLine => Line > 0;

    /// <summary>MSBuild/compiler canonical form: <c>file(line,col)</c>.</summary>
    public override string ToString() =>
        string.IsNullOrEmpty(File) ? string.Empty
        : Line > 0 ? $"{File}({Line},{Math.Max(Column, 1)})"
        : File;
}
