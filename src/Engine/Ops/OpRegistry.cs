using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Every op kind the engine knows, in one explicit list. A node of any other kind is NM0023. An op
/// (and its kernel) is built the first time a node of its kind asks for it: a process that reads one
/// model compiles only the operators that model uses, not all of them (cold start, bench/README.md).
/// </summary>
public static class OpRegistry
{
    private static readonly Dictionary<string, Lazy<OpKind>> s_kinds = new(StringComparer.Ordinal)
    {
        [Conv.OpType] = new(static () => new Conv()),
        [ConvTranspose.OpType] = new(static () => new ConvTranspose()),
        [FullyConnected.OpType] = new(static () => new FullyConnected()),
        [LocallyConnected.OpType] = new(static () => new LocallyConnected()),
        [BatchNormalization.OpType] = new(static () => new BatchNormalization()),
        [InstanceNormalization.OpType] = new(static () => new InstanceNormalization()),
        [ChannelAffine.OpType] = new(static () => new ChannelAffine()),
        [Activation.OpType] = new(static () => new Activation()),
        [MaxPool.OpType] = new(static () => new MaxPool()),
        [AveragePool.OpType] = new(static () => new AveragePool()),
        [GlobalAveragePool.OpType] = new(static () => new GlobalAveragePool()),
        [Concat.OpType] = new(static () => new Concat()),
        [Shortcut.OpType] = new(static () => new Shortcut()),
        [Upsample.OpType] = new(static () => new Upsample()),
        [Reorg.OpType] = new(static () => new Reorg()),
        [Softmax.OpType] = new(static () => new Softmax()),
        [Lrn.OpType] = new(static () => new Lrn()),
        [DarknetCrop.OpType] = new(static () => new DarknetCrop()),
        [DarknetYolo.OpType] = new(static () => new DarknetYolo()),
        [DarknetGaussianYolo.OpType] = new(static () => new DarknetGaussianYolo()),
        [DarknetRegion.OpType] = new(static () => new DarknetRegion()),
        [DarknetDetection.OpType] = new(static () => new DarknetDetection()),
        [DarknetContrastive.OpType] = new(static () => new DarknetContrastive()),
        [GlobalMaxPool.OpType] = new(static () => new GlobalMaxPool()),
        [Power.OpType] = new(static () => new Power()),
        [Quantize.OpType] = new(static () => new Quantize()),
        [Split.OpType] = new(static () => new Split()),
        [Flatten.OpType] = new(static () => new Flatten()),
        [Reshape.OpType] = new(static () => new Reshape()),
        [Permute.OpType] = new(static () => new Permute()),
        [Gather.OpType] = new(static () => new Gather()),
        [Normalize.OpType] = new(static () => new Normalize()),
        [PriorBox.OpType] = new(static () => new PriorBox()),
        [DetectionOutput.OpType] = new(static () => new DetectionOutput()),
        [Arithmetic.OpType] = new(static () => new Arithmetic()),
        [MatMul.OpType] = new(static () => new MatMul()),
        [StridedSlice.OpType] = new(static () => new StridedSlice()),
        [Pad.OpType] = new(static () => new Pad()),
        [Resize.OpType] = new(static () => new Resize()),
        [ReduceMean.OpType] = new(static () => new ReduceMean()),
        ["Dropout"] = new(static () => new Identity("Dropout")),
        ["Identity"] = new(static () => new Identity("Identity")),
    };

    /// <summary>The op kinds' names, as <see cref="Node.OpType"/> states them.</summary>
    public static IEnumerable<string> Names => s_kinds.Keys;

    public static OpKind Get(Node node) =>
        s_kinds.TryGetValue(node.OpType, out var kind)
            ? kind.Value
            : throw DiagnosticCodes.UnknownOperator.Exception(node.Origin.Location,
                $"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Name}': the cost model does not know op '{node.OpType}'.");
}
