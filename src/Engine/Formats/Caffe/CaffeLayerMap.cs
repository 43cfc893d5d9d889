using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Every Caffe layer type the reader translates, one entry each: the type (as LayerParameter spells
/// it; V1 layers are upgraded to these names before they are looked up) and its mapper. A type not
/// listed is refused (NM0116) with the reason its kind suggests: training data, training only, a Caffe
/// layer not supported yet, or not a Caffe layer at all.
/// </summary>
internal static class CaffeLayerMap
{
    private static readonly Dictionary<string, Action<CaffeLayerContext>> s_mappers = new(StringComparer.Ordinal)
    {
        ["Input"] = CaffeInputMapping.InputLayer,
        ["Convolution"] = l => CaffeConvMapping.Convolution(l, transposed: false),
        ["Deconvolution"] = l => CaffeConvMapping.Convolution(l, transposed: true),
        ["InnerProduct"] = CaffeConvMapping.InnerProduct,
        ["Pooling"] = CaffeConvMapping.Pooling,
        ["BatchNorm"] = CaffeNormalizationMapping.BatchNorm,
        ["Scale"] = CaffeNormalizationMapping.ScaleLayer,
        ["Bias"] = CaffeNormalizationMapping.BiasLayer,
        ["LRN"] = CaffeNormalizationMapping.Lrn,
        ["Normalize"] = CaffeNormalizationMapping.NormalizeLayer,
        ["ReLU"] = l =>
        {
            var slope = l.P.ReluParam?.NegativeSlope ?? 0f;
            l.Unary("Activation", a => a.Set("function", slope == 0 ? "relu" : "leaky").Set("alpha", (double)slope));
        },
        ["PReLU"] = CaffeLayerMapping.PRelu,
        ["Sigmoid"] = l => l.Unary("Activation", a => a.Set("function", "logistic").Set("alpha", 0.0)),
        ["TanH"] = l => l.Unary("Activation", a => a.Set("function", "tanh").Set("alpha", 0.0)),
        ["ELU"] = l => l.Unary("Activation", a => a.Set("function", "elu").Set("alpha", (double)(l.P.EluParam?.Alpha ?? 1f))),
        ["Eltwise"] = CaffeLayerMapping.EltwiseLayer,
        ["Softmax"] = CaffeLayerMapping.SoftmaxLayer,
        ["Dropout"] = l => l.Unary("Dropout", a => a.Set("probability", (double)(l.P.DropoutParam?.DropoutRatio ?? 0.5f))),
        ["Power"] = l =>
        {
            var pp = l.P.PowerParam ?? new PowerParameter();
            l.Unary("Power", a => a.Set("power", (double)pp.Power).Set("scale", (double)pp.Scale).Set("shift", (double)pp.Shift));
        },
        ["Concat"] = CaffeShapeMapping.ConcatLayer,
        ["Split"] = l => l.Emit("Split", l.Bottoms(1, 1), l.P.Top.Count, forceInPlace: true),
        ["Slice"] = CaffeShapeMapping.SliceLayer,
        ["Flatten"] = CaffeShapeMapping.FlattenLayer,
        ["Reshape"] = CaffeShapeMapping.ReshapeLayer,
        ["Permute"] = CaffeShapeMapping.PermuteLayer,
        ["PriorBox"] = CaffeDetectionMapping.PriorBoxLayer,
        ["DetectionOutput"] = CaffeDetectionMapping.DetectionOutputLayer,
        ["Silence"] = l => l.Bottoms(1, int.MaxValue),
    };

    private static readonly HashSet<string> s_dataLayers = new(StringComparer.Ordinal)
    {
        "Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "WindowData", "AnnotatedData", "VideoData", "Python",
    };

    private static readonly HashSet<string> s_trainingLayers = new(StringComparer.Ordinal)
    {
        "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss", "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss",
        "ContrastiveLoss", "MultiBoxLoss", "Accuracy", "HDF5Output", "DetectionEvaluate",
    };

    private static readonly HashSet<string> s_knownCaffeLayers = new(StringComparer.Ordinal)
    {
        "AbsVal", "ArgMax", "BNLL", "Crop", "Embed", "Exp", "Log", "LSTM", "RNN", "MVN", "Reduction", "SPP", "Threshold", "Tile",
        "Im2col", "Parameter", "Clip", "Swish", "BatchReindex", "Filter", "Recurrent", "NormalizeBBox",
    };

    /// <summary>Translates the layer with its type's mapper; a type without one is refused (NM0116).</summary>
    public static void Translate(CaffeLayerContext layer)
    {
        if (!s_mappers.TryGetValue(layer.P.Type, out var map))
        {
            throw Unsupported(layer);
        }

        map(layer);
    }

    private static NeuralException Unsupported(CaffeLayerContext layer)
    {
        var type = layer.P.Type;
        var location = layer.Map.Of(layer.Layer.Source, "type");
        var why = string.IsNullOrEmpty(type) ? "has no type"
            : s_dataLayers.Contains(type) ? $"is a '{type}' layer, which feeds training data; analyse the deploy prototxt, which declares its input with 'input' or an Input layer"
            : s_trainingLayers.Contains(type) ? $"is a '{type}' layer, which exists only for training; exclude it from the TEST phase (include {{ phase: TRAIN }}) or use the deploy prototxt"
            : s_knownCaffeLayers.Contains(type) ? $"has type '{type}', a Caffe layer NeuralBuild does not support yet"
            : $"has type '{type}', which is not a layer type of BVLC Caffe or SSD (a custom layer of a Caffe fork?)";
        return DiagnosticCodes.CaffeUnsupportedLayer.Exception(location, $"layer '{layer.P.Name}' {why}.");
    }
}
