using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Reads a legacy V1 layer (<c>layers { type: CONVOLUTION … }</c>) as the LayerParameter Caffe
/// upgrades it to: the enum type becomes its type name, and name, bottoms, tops, rules, blobs and
/// the parameter messages carry over. The parameter messages are the same instances as in the
/// document, so the source map still locates their fields.
/// </summary>
internal static class CaffeV1Upgrade
{
    private static readonly Dictionary<V1LayerParameter.Types.LayerType, string> s_names = new()
    {
        [V1LayerParameter.Types.LayerType.Absval] = "AbsVal",
        [V1LayerParameter.Types.LayerType.Accuracy] = "Accuracy",
        [V1LayerParameter.Types.LayerType.Argmax] = "ArgMax",
        [V1LayerParameter.Types.LayerType.Bnll] = "BNLL",
        [V1LayerParameter.Types.LayerType.Concat] = "Concat",
        [V1LayerParameter.Types.LayerType.ContrastiveLoss] = "ContrastiveLoss",
        [V1LayerParameter.Types.LayerType.Convolution] = "Convolution",
        [V1LayerParameter.Types.LayerType.Data] = "Data",
        [V1LayerParameter.Types.LayerType.Deconvolution] = "Deconvolution",
        [V1LayerParameter.Types.LayerType.Dropout] = "Dropout",
        [V1LayerParameter.Types.LayerType.DummyData] = "DummyData",
        [V1LayerParameter.Types.LayerType.EuclideanLoss] = "EuclideanLoss",
        [V1LayerParameter.Types.LayerType.Eltwise] = "Eltwise",
        [V1LayerParameter.Types.LayerType.Exp] = "Exp",
        [V1LayerParameter.Types.LayerType.Flatten] = "Flatten",
        [V1LayerParameter.Types.LayerType.Hdf5Data] = "HDF5Data",
        [V1LayerParameter.Types.LayerType.Hdf5Output] = "HDF5Output",
        [V1LayerParameter.Types.LayerType.HingeLoss] = "HingeLoss",
        [V1LayerParameter.Types.LayerType.Im2Col] = "Im2col",
        [V1LayerParameter.Types.LayerType.ImageData] = "ImageData",
        [V1LayerParameter.Types.LayerType.InfogainLoss] = "InfogainLoss",
        [V1LayerParameter.Types.LayerType.InnerProduct] = "InnerProduct",
        [V1LayerParameter.Types.LayerType.Lrn] = "LRN",
        [V1LayerParameter.Types.LayerType.MemoryData] = "MemoryData",
        [V1LayerParameter.Types.LayerType.MultinomialLogisticLoss] = "MultinomialLogisticLoss",
        [V1LayerParameter.Types.LayerType.Mvn] = "MVN",
        [V1LayerParameter.Types.LayerType.Pooling] = "Pooling",
        [V1LayerParameter.Types.LayerType.Power] = "Power",
        [V1LayerParameter.Types.LayerType.Relu] = "ReLU",
        [V1LayerParameter.Types.LayerType.Sigmoid] = "Sigmoid",
        [V1LayerParameter.Types.LayerType.SigmoidCrossEntropyLoss] = "SigmoidCrossEntropyLoss",
        [V1LayerParameter.Types.LayerType.Silence] = "Silence",
        [V1LayerParameter.Types.LayerType.Softmax] = "Softmax",
        [V1LayerParameter.Types.LayerType.SoftmaxLoss] = "SoftmaxWithLoss",
        [V1LayerParameter.Types.LayerType.Split] = "Split",
        [V1LayerParameter.Types.LayerType.Slice] = "Slice",
        [V1LayerParameter.Types.LayerType.Tanh] = "TanH",
        [V1LayerParameter.Types.LayerType.WindowData] = "WindowData",
        [V1LayerParameter.Types.LayerType.Threshold] = "Threshold",
    };

    public static string TypeName(V1LayerParameter.Types.LayerType type) => s_names.GetValueOrDefault(type, string.Empty);

    public static LayerParameter Upgrade(V1LayerParameter v1, PrototxtSourceMap map)
    {
        if (!v1.HasType || v1.Type == V1LayerParameter.Types.LayerType.None)
        {
            throw DiagnosticCodes.CaffeInvalidParameter.Exception(map.Of(v1),
                $"legacy layer '{v1.Name}' has no type (type: CONVOLUTION, RELU, …).");
        }

        var layer = new LayerParameter
        {
            Name = v1.Name,
            Type = TypeName(v1.Type),
            AccuracyParam = v1.AccuracyParam,
            ArgmaxParam = v1.ArgmaxParam,
            ConcatParam = v1.ConcatParam,
            ConvolutionParam = v1.ConvolutionParam,
            DropoutParam = v1.DropoutParam,
            EltwiseParam = v1.EltwiseParam,
            ExpParam = v1.ExpParam,
            InnerProductParam = v1.InnerProductParam,
            LrnParam = v1.LrnParam,
            PoolingParam = v1.PoolingParam,
            PowerParam = v1.PowerParam,
            ReluParam = v1.ReluParam,
            SigmoidParam = v1.SigmoidParam,
            SoftmaxParam = v1.SoftmaxParam,
            SliceParam = v1.SliceParam,
            TanhParam = v1.TanhParam,
            ThresholdParam = v1.ThresholdParam,
            TransformParam = v1.TransformParam,
            LossParam = v1.LossParam,
        };
        layer.Bottom.AddRange(v1.Bottom);
        layer.Top.AddRange(v1.Top);
        layer.Include.AddRange(v1.Include);
        layer.Exclude.AddRange(v1.Exclude);
        layer.Blobs.AddRange(v1.Blobs);
        layer.LossWeight.AddRange(v1.LossWeight);
        foreach (var name in v1.Param)
        {
            layer.Param.Add(new ParamSpec { Name = name });
        }

        return layer;
    }
}
