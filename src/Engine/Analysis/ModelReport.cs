using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Analysis;

/// <summary>The cost figures of one source layer (or of the whole model, for totals).</summary>
public sealed record CostFigures
{
    /// <summary>Stored parameters: weights, biases and BN statistics still present.</summary>
    public long Params { get; init; }

    public long Macc { get; init; }

    /// <summary>FLOPs under the report's <see cref="ModelReport.Convention"/>.</summary>
    public long Flops { get; init; }

    /// <summary>Memory access in elements, textbook convention (every MAC reads one input).</summary>
    public long MemoryAccess { get; init; }

    /// <summary>Memory access in elements when every tensor is touched once.</summary>
    public long MemoryAccessIdeal { get; init; }

    /// <summary>Bytes of newly written output tensors (in-place layers write none).</summary>
    public long ActivationBytes { get; init; }

    public long WeightsBytes { get; init; }

    public FlopTerms Secondary { get; init; } = FlopTerms.Zero;

    public static CostFigures operator +(CostFigures a, CostFigures b) => new()
    {
        Params = Ir.Checked.Add(a.Params, b.Params),
        Macc = Ir.Checked.Add(a.Macc, b.Macc),
        Flops = Ir.Checked.Add(a.Flops, b.Flops),
        MemoryAccess = Ir.Checked.Add(a.MemoryAccess, b.MemoryAccess),
        MemoryAccessIdeal = Ir.Checked.Add(a.MemoryAccessIdeal, b.MemoryAccessIdeal),
        ActivationBytes = Ir.Checked.Add(a.ActivationBytes, b.ActivationBytes),
        WeightsBytes = Ir.Checked.Add(a.WeightsBytes, b.WeightsBytes),
        Secondary = a.Secondary + b.Secondary,
    };

    /// <summary>How much each figure changed from <paramref name="before"/> to <paramref name="after"/> (negative: it shrank). Figures are never negative, so the differences cannot overflow.</summary>
    public static CostFigures operator -(CostFigures after, CostFigures before) => new()
    {
        Params = after.Params - before.Params,
        Macc = after.Macc - before.Macc,
        Flops = after.Flops - before.Flops,
        MemoryAccess = after.MemoryAccess - before.MemoryAccess,
        MemoryAccessIdeal = after.MemoryAccessIdeal - before.MemoryAccessIdeal,
        ActivationBytes = after.ActivationBytes - before.ActivationBytes,
        WeightsBytes = after.WeightsBytes - before.WeightsBytes,
        Secondary = new FlopTerms(
            after.Secondary.Bias - before.Secondary.Bias,
            after.Secondary.Normalization - before.Secondary.Normalization,
            after.Secondary.Activation - before.Secondary.Activation,
            after.Secondary.Pooling - before.Secondary.Pooling,
            after.Secondary.Elementwise - before.Secondary.Elementwise,
            after.Secondary.Softmax - before.Secondary.Softmax),
    };
}

/// <summary>One row of the per-layer table: a layer as the model file declares it.</summary>
public sealed record LayerReport(int Index, string Kind, string Name, SourceLocation Location, string OutputShape, IReadOnlyList<string> Ops, CostFigures Cost)
{
    /// <summary>
    /// The layers whose outputs this layer reads (by <see cref="Index"/>, in the order first read): the
    /// model's data flow between source layers, which a drawing of the graph needs. Empty for a layer
    /// that reads only the model's inputs and weights.
    /// </summary>
    public IReadOnlyList<int> InputLayers { get; init; } = [];
}

/// <summary>Per-layer costs and totals of one model under one counting convention.</summary>
public sealed record ModelReport(
    string ModelPath,
    string Format,
    string InputShape,
    CountingConvention Convention,
    IReadOnlyList<LayerReport> Layers,
    CostFigures Totals,
    long PeakActivationBytes,
    int PeakLayerIndex)
{
    public const int SchemaVersion = 1;
}
