namespace NeuralBuild.Engine.Ops;

/// <summary>
/// The per-node cost terms an op reports. Parameters, weight reads, output writes and ideal input
/// reads are derived generically from shapes by <see cref="Analysis.CostModel"/>; an op only states
/// what depends on its arithmetic.
/// </summary>
public sealed record OpCost
{
    public static OpCost Zero { get; } = new();

    /// <summary>Multiply-accumulates of conv / deconv / FC / MatMul, bias excluded.</summary>
    public long Macc { get; init; }

    /// <summary>Elements of the reduction each output element sums over (K of the (2K±1) conventions).</summary>
    public long MaccOutputs { get; init; }

    /// <summary>Textbook input reads (every MAC or window element reads one input); null: read each input once.</summary>
    public long? NaiveInputReads { get; init; }

    /// <summary>Input elements actually read when not every input element is (a channel slice); null: all of them.</summary>
    public long? IdealInputReads { get; init; }

    /// <summary>True when the op does not touch memory at inference (Dropout, Identity).</summary>
    public bool NoMemoryTraffic { get; init; }

    public FlopTerms Flops { get; init; } = FlopTerms.Zero;
}

/// <summary>Secondary FLOP terms, each reported as its own column and never folded into MACC.</summary>
public sealed record FlopTerms(long Bias = 0, long Normalization = 0, long Activation = 0, long Pooling = 0, long Elementwise = 0, long Softmax = 0)
{
    public static FlopTerms Zero { get; } = new();

    public long Total => Bias + Normalization + Activation + Pooling + Elementwise + Softmax;

    public static FlopTerms operator +(FlopTerms a, FlopTerms b) => new(
        a.Bias + b.Bias,
        a.Normalization + b.Normalization,
        a.Activation + b.Activation,
        a.Pooling + b.Pooling,
        a.Elementwise + b.Elementwise,
        a.Softmax + b.Softmax);
}
