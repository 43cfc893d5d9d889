using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>Every op kind the engine knows, in one explicit list. A node of any other kind is NM0023.</summary>
public static class OpRegistry
{
    private static readonly Dictionary<string, OpKind> s_kinds = new OpKind[]
    {
        new Conv(),
        new ConvTranspose(),
        new FullyConnected(),
        new LocallyConnected(),
        new BatchNormalization(),
        new InstanceNormalization(),
        new ChannelAffine(),
        new Activation(),
        new MaxPool(),
        new AveragePool(),
        new GlobalAveragePool(),
        new Concat(),
        new Shortcut(),
        new Upsample(),
        new Reorg(),
        new Softmax(),
        new Lrn(),
        new DarknetCrop(),
        new DarknetYolo(),
        new DarknetGaussianYolo(),
        new DarknetRegion(),
        new DarknetDetection(),
        new DarknetContrastive(),
        new GlobalMaxPool(),
        new Power(),
        new Quantize(),
        new Split(),
        new Flatten(),
        new Reshape(),
        new Permute(),
        new Gather(),
        new Normalize(),
        new PriorBox(),
        new DetectionOutput(),
        new Arithmetic(),
        new MatMul(),
        new StridedSlice(),
        new Pad(),
        new Resize(),
        new ReduceMean(),
        new Identity("Dropout"),
        new Identity("Identity"),
    }.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static IEnumerable<OpKind> All => s_kinds.Values;

    public static OpKind Get(Node node) =>
        s_kinds.TryGetValue(node.OpType, out var kind)
            ? kind
            : throw DiagnosticCodes.UnknownOperator.Exception(node.Origin.Location,
                $"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Name}': the cost model does not know op '{node.OpType}'.");
}
