namespace NeuralBuild.Engine.Execution;

/// <summary>How the <see cref="ReferenceExecutor"/> runs.</summary>
public sealed record ExecutionOptions
{
    /// <summary>Threads the heavy kernels may use; null: every core.</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>
    /// Runs each Conv → BatchNormalization → Activation chain as one convolution with an epilogue
    /// (<see cref="EpilogueFusion"/>), on the executor's own plan: faster, the same bits. Off by
    /// default, so that a run is each node's own kernel, as verification of an original model needs.
    /// </summary>
    public bool FuseEpilogues { get; init; }
}
