namespace NeuralBuild.Engine.Execution;

/// <summary>How the <see cref="ReferenceExecutor"/> runs.</summary>
public sealed record ExecutionOptions
{
    /// <summary>Threads the heavy kernels may use; null: every core.</summary>
    public int? MaxDegreeOfParallelism { get; init; }
}
