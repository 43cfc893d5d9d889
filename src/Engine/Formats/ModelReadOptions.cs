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
}
