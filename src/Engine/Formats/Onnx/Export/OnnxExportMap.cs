namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// The one map of the ONNX export: IR operator → the lowering that emits its ONNX nodes from the
/// node's typed attribute record. An operator not listed here is refused (NM0301). The lowerings
/// are grouped by family: <see cref="OnnxConvLowering"/>, <see cref="OnnxPoolLowering"/>,
/// <see cref="OnnxElementwiseLowering"/>, <see cref="OnnxShapeLowering"/>,
/// <see cref="OnnxDarknetLowering"/> and <see cref="OnnxCaffeLowering"/>.
/// </summary>
internal static class OnnxExportMap
{
    private static readonly Dictionary<string, Action<OnnxLoweringContext>> s_lowerings = new(StringComparer.Ordinal)
    {
        ["Conv"] = OnnxConvLowering.Conv,
        ["ConvTranspose"] = OnnxConvLowering.ConvTranspose,
        ["FullyConnected"] = OnnxConvLowering.FullyConnected,
        ["MatMul"] = OnnxConvLowering.MatMul,
        ["LocallyConnected"] = OnnxConvLowering.LocallyConnected,

        ["MaxPool"] = OnnxPoolLowering.MaxPool,
        ["AveragePool"] = OnnxPoolLowering.AveragePool,
        ["GlobalAveragePool"] = OnnxPoolLowering.GlobalAveragePool,
        ["GlobalMaxPool"] = OnnxPoolLowering.GlobalMaxPool,
        ["ReduceMean"] = OnnxPoolLowering.ReduceMean,

        ["Activation"] = OnnxElementwiseLowering.Activation,
        ["Arithmetic"] = OnnxElementwiseLowering.Arithmetic,
        ["ChannelAffine"] = OnnxElementwiseLowering.ChannelAffine,
        ["BatchNormalization"] = OnnxElementwiseLowering.BatchNormalization,
        ["InstanceNormalization"] = OnnxElementwiseLowering.InstanceNormalization,
        ["Dropout"] = OnnxElementwiseLowering.Identity,
        ["Identity"] = OnnxElementwiseLowering.Identity,

        ["Concat"] = OnnxShapeLowering.Concat,
        ["Flatten"] = OnnxShapeLowering.View,
        ["Reshape"] = OnnxShapeLowering.View,
        ["Permute"] = OnnxShapeLowering.Permute,
        ["Gather"] = OnnxShapeLowering.Gather,
        ["Split"] = OnnxShapeLowering.Split,
        ["StridedSlice"] = OnnxShapeLowering.StridedSlice,
        ["Pad"] = OnnxShapeLowering.Pad,
        ["Resize"] = OnnxShapeLowering.Resize,
        ["Softmax"] = OnnxShapeLowering.Softmax,

        ["Shortcut"] = OnnxDarknetLowering.Shortcut,
        ["Upsample"] = OnnxDarknetLowering.Upsample,
        ["Reorg"] = OnnxDarknetLowering.Reorg,
        ["DarknetYolo"] = OnnxDarknetLowering.Yolo,
        ["DarknetGaussianYolo"] = OnnxDarknetLowering.GaussianYolo,
        ["DarknetRegion"] = OnnxDarknetLowering.Region,
        ["DarknetDetection"] = OnnxDarknetLowering.Detection,
        ["DarknetCrop"] = OnnxDarknetLowering.Crop,

        ["Power"] = OnnxCaffeLowering.Power,
        ["Quantize"] = OnnxActivationQuantizer.Quantize,
        ["LRN"] = OnnxCaffeLowering.Lrn,
        ["Normalize"] = OnnxCaffeLowering.Normalize,
        ["PriorBox"] = OnnxCaffeLowering.PriorBox,
    };

    /// <summary>The IR operators the export lowers.</summary>
    public static IEnumerable<string> Operators => s_lowerings.Keys;

    public static Action<OnnxLoweringContext>? Find(string opType) => s_lowerings.GetValueOrDefault(opType);
}
