using System.Collections.Concurrent;
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
    private static readonly ConcurrentDictionary<string, OpKind> s_built = new(StringComparer.Ordinal);

    private static OpKind? Create(string opType) => opType switch
    {
        Conv.OpType => new Conv(),
        ConvTranspose.OpType => new ConvTranspose(),
        FullyConnected.OpType => new FullyConnected(),
        LocallyConnected.OpType => new LocallyConnected(),
        BatchNormalization.OpType => new BatchNormalization(),
        InstanceNormalization.OpType => new InstanceNormalization(),
        ChannelAffine.OpType => new ChannelAffine(),
        Activation.OpType => new Activation(),
        MaxPool.OpType => new MaxPool(),
        AveragePool.OpType => new AveragePool(),
        GlobalAveragePool.OpType => new GlobalAveragePool(),
        Concat.OpType => new Concat(),
        Shortcut.OpType => new Shortcut(),
        Upsample.OpType => new Upsample(),
        Reorg.OpType => new Reorg(),
        Softmax.OpType => new Softmax(),
        Lrn.OpType => new Lrn(),
        DarknetCrop.OpType => new DarknetCrop(),
        DarknetYolo.OpType => new DarknetYolo(),
        DarknetGaussianYolo.OpType => new DarknetGaussianYolo(),
        DarknetRegion.OpType => new DarknetRegion(),
        DarknetDetection.OpType => new DarknetDetection(),
        DarknetContrastive.OpType => new DarknetContrastive(),
        GlobalMaxPool.OpType => new GlobalMaxPool(),
        Power.OpType => new Power(),
        Quantize.OpType => new Quantize(),
        Split.OpType => new Split(),
        Flatten.OpType => new Flatten(),
        Reshape.OpType => new Reshape(),
        Permute.OpType => new Permute(),
        Gather.OpType => new Gather(),
        Normalize.OpType => new Normalize(),
        PriorBox.OpType => new PriorBox(),
        DetectionOutput.OpType => new DetectionOutput(),
        Arithmetic.OpType => new Arithmetic(),
        MatMul.OpType => new MatMul(),
        StridedSlice.OpType => new StridedSlice(),
        Pad.OpType => new Pad(),
        Resize.OpType => new Resize(),
        ReduceMean.OpType => new ReduceMean(),
        "Dropout" or "Identity" => new Identity(opType),
        _ => null,
    };

    public static OpKind Get(Node node) =>
        s_built.TryGetValue(node.OpType, out var kind) ? kind
        : Create(node.OpType) is { } created ? s_built.GetOrAdd(node.OpType, created)
        : throw DiagnosticCodes.UnknownOperator.Exception(node.Origin.Location,
            $"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Name}': the cost model does not know op '{node.OpType}'.");
}
