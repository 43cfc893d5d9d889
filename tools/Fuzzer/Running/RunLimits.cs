namespace NeuralBuild.Fuzzer.Running;

/// <summary>Bounds every input must stay within.</summary>
public sealed record RunLimits
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes an input may allocate per byte of its files: a reader copies, parses and
    /// builds tensors from what is there, a few times over, but never more than that.</summary>
    public long AllocationPerInputByte { get; init; } = 64;

    /// <summary>Fixed allocation allowance on top (graph, reports, verification patches, JIT).</summary>
    public long AllocationAllowance { get; init; } = 256L << 20;

    /// <summary>Stack of the thread that runs an input: 1 MB, the main-thread stack on Windows, so
    /// unbounded recursion is found at the depth where users would hit it.</summary>
    public int StackBytes { get; init; } = 1 << 20;

    public long AllocationBound(long inputBytes) => (AllocationPerInputByte * inputBytes) + AllocationAllowance;
}
