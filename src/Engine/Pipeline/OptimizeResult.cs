using NeuralBuild.Engine.Analysis;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>What <see cref="ModelOptimizer.Optimize"/> produced.</summary>
public sealed record OptimizeResult
{
    public required string OptimizedDefinitionPath { get; init; }

    public required string OptimizedWeightsPath { get; init; }

    /// <summary>Costs of the model as given.</summary>
    public required ModelReport Before { get; init; }

    /// <summary>Costs of the optimised model: the figures budgets are checked against.</summary>
    public required ModelReport After { get; init; }

    /// <summary>One line per pass application or refusal, for reports and build logs.</summary>
    public IReadOnlyList<string> PassLog { get; init; } = [];
}
