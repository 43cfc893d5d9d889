using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats;

/// <summary>How to open a model.</summary>
public sealed record ModelReadOptions
{
    /// <summary>Weights to attach; null: analyse shapes only (no weights needed).</summary>
    public string? WeightsPath { get; init; }

    /// <summary>Overrides the input shape the model declares (batch included).</summary>
    public Shape? InputShape { get; init; }

    public DarknetDialect DarknetDialect { get; init; } = DarknetDialect.AlexeyAB;

    /// <summary>
    /// The format's own options in their canonical spelling ("dialect" → "AlexeyAB"), as
    /// <see cref="IModelFormat.WithFormatOptions"/> applied them: what the build records with a
    /// model's metrics. Empty for a format without options.
    /// </summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
