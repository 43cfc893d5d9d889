using NeuralBuild.Engine.Execution.Kernels;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>Every kernel of the reference executor, in one explicit list (one per op kind of <see cref="Ops.OpRegistry"/>).</summary>
internal static class KernelRegistry
{
    private static readonly Dictionary<string, Kernel> s_kernels = new Kernel[]
    {
        new ConvKernel(),
        new ConvTransposeKernel(),
        new FullyConnectedKernel(),
        new LocallyConnectedKernel(),
        new BatchNormalizationKernel(),
        new ScaleKernel(),
        new ActivationKernel(),
        new MaxPoolKernel(),
        new AveragePoolKernel(),
        new GlobalAveragePoolKernel(),
        new ConcatKernel(),
        new ShortcutKernel(),
        new MulKernel(),
        new UpsampleKernel(),
        new ReorgKernel(),
        new SoftmaxKernel(),
        new LrnKernel(),
        new DarknetCropKernel(),
        new DarknetYoloKernel(),
        new DarknetGaussianYoloKernel(),
        new DarknetRegionKernel(),
        new DarknetDetectionKernel(),
        new GlobalMaxPoolKernel(),
        new BiasKernel(),
        new EltwiseKernel(),
        new PowerKernel(),
        new SplitKernel(),
        new SliceKernel(),
        new ViewKernel("Flatten"),
        new ViewKernel("Reshape"),
        new PermuteKernel(),
        new NormalizeKernel(),
        new PriorBoxKernel(),
        new DetectionOutputKernel(),
        new ArithmeticKernel(),
        new MatMulKernel(),
        new StridedSliceKernel(),
        new PadKernel(),
        new ResizeKernel(),
        new ReduceMeanKernel(),
        new PassThroughKernel("DarknetContrastive"),
        new PassThroughKernel("Dropout"),
        new PassThroughKernel("Identity"),
    }.ToDictionary(k => k.OpType, StringComparer.Ordinal);

    public static IEnumerable<string> OpTypes => s_kernels.Keys;

    public static Kernel Get(Node node) =>
        s_kernels.TryGetValue(node.OpType, out var kernel)
            ? kernel
            : throw new NotSupportedException($"layer {node.Origin.Index} [{node.Origin.Kind}] '{node.Name}': the reference executor has no kernel for op '{node.OpType}'.");
}
