namespace NeuralBuild.Engine.Ir;

/// <summary>A model read from disk: its graph plus where it came from.</summary>
public sealed class Model(string format, string definitionPath, string? weightsPath, Graph graph)
{
    /// <summary>Format key of <see cref="Formats.ModelFormats"/> (e.g. "darknet").</summary>
    public string Format { get; } = format;

    public string DefinitionPath { get; } = definitionPath;

    public string? WeightsPath { get; } = weightsPath;

    public Graph Graph { get; } = graph;

    /// <summary>Format-specific state the writer needs to round-trip (e.g. the parsed cfg).</summary>
    public object? SourceDocument { get; init; }

    /// <summary>Number of layers in the source model (for per-layer reports).</summary>
    public int LayerCount { get; init; }
}
