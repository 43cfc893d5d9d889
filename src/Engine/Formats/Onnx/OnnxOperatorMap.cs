using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Inputs an operator requires (leading, each named) and accepts in all, per the ONNX operator specs;
/// <see cref="Since"/> adds the counts of a later opset that changed them.
/// </summary>
internal sealed class OnnxArity
{
    private readonly (long Opset, int Required, int Accepted)[] _steps;

    private OnnxArity((long Opset, int Required, int Accepted)[] steps) => _steps = steps;

    public static OnnxArity Of(int required, int accepted) => new([(0, required, accepted)]);

    public OnnxArity Since(long opset, int required, int accepted) => new([.. _steps, (opset, required, accepted)]);

    public (int Required, int Accepted) At(long opset)
    {
        var step = _steps.Last(s => opset >= s.Opset);
        return (step.Required, step.Accepted);
    }
}

/// <summary>When a node may fold to a constant at read time.</summary>
internal enum OnnxFoldWhen
{
    /// <summary>Whatever its inputs are (Constant; Shape, which needs only its input's shape).</summary>
    Always,

    /// <summary>When every input is a constant, however large (Identity aliases it).</summary>
    Constants,

    /// <summary>When every input is a constant of at most <see cref="OnnxConstant.FoldLimit"/> elements.</summary>
    SmallConstants,
}

/// <summary>A read-time fold: the constant the node computes, or null when this one is not folded after all.</summary>
internal sealed record OnnxFold(OnnxFoldWhen When, Func<OnnxNode, OnnxConstant?> Compute);

/// <summary>One default-domain ONNX operator: its inputs, its fold on constants, its mapping to IR nodes.</summary>
internal sealed record OnnxOperator(string Type, OnnxArity Arity, OnnxFold? Fold = null, Action<OnnxNode>? Map = null);

/// <summary>
/// Every default-domain ONNX operator the reader knows, one entry each. An operator with a
/// <see cref="OnnxOperator.Map"/> becomes IR nodes; one without is read only as a constant (folded at
/// read time, NM0202 on a computed value). Anything not listed is NM0202.
/// </summary>
internal static class OnnxOperatorMap
{
    private static readonly OnnxOperator[] s_operators =
    [
        new("Constant", In(0), Fold(OnnxFoldWhen.Always, OnnxConstantFolder.ConstantNode)),
        new("Shape", In(1), Fold(OnnxFoldWhen.Always, OnnxConstantFolder.Shape)),
        new("Gather", In(2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Gather), OnnxShapeMapping.Gather),
        new("ConstantOfShape", In(1), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.ConstantOfShape)),

        new("Conv", In(2, 3), Map: OnnxConvMapping.Conv),
        new("ConvTranspose", In(2, 3), Map: OnnxConvMapping.ConvTranspose),
        new("MaxPool", In(1), Map: OnnxConvMapping.Pool),
        new("AveragePool", In(1), Map: OnnxConvMapping.Pool),
        new("GlobalAveragePool", In(1), Map: n => n.Emit(n.OpType, [n.X], new Attributes())),
        new("GlobalMaxPool", In(1), Map: n => n.Emit(n.OpType, [n.X], new Attributes())),
        new("BatchNormalization", In(5), Map: OnnxLayerMapping.BatchNormalization),
        new("InstanceNormalization", In(3), Map: n => n.Emit("InstanceNormalization", [n.X, n.Weight(1, "scale"), n.Weight(2, "B")], new Attributes().Set("epsilon", (double)n.Attr.Float("epsilon", 1e-5f)))),
        new("Gemm", In(2, 3), Map: OnnxLayerMapping.Gemm),
        new("MatMul", In(2), Map: n => n.Emit("MatMul", [n.Value(0), n.Value(1)], new Attributes())),

        new("Relu", In(1), Map: n => n.Activation("relu")),
        new("LeakyRelu", In(1), Map: n => n.Activation("leaky", new Attributes().Set("alpha", (double)n.Attr.Float("alpha", 0.01f)))),
        new("PRelu", In(2), Map: n => n.Emit("Activation", [n.X, n.Weight(1, "slope")], new Attributes().Set("function", "prelu"))),
        new("Sigmoid", In(1), Map: n => n.Activation("sigmoid")),
        new("Tanh", In(1), Map: n => n.Activation("tanh")),
        new("Softplus", In(1), Map: n => n.Activation("softplus")),
        new("HardSigmoid", In(1), Map: OnnxLayerMapping.HardSigmoid),
        new("HardSwish", In(1), Map: n => n.Activation("hardswish")),
        new("Clip", In(1).Since(11, 1, 3), Map: OnnxOpsetNormalisation.Clip),
        new("Softmax", In(1), Map: OnnxOpsetNormalisation.Softmax),

        new("Add", In(2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Arithmetic), OnnxLayerMapping.Arithmetic),
        new("Sub", In(2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Arithmetic), OnnxLayerMapping.Arithmetic),
        new("Mul", In(2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Arithmetic), OnnxLayerMapping.Arithmetic),
        new("Div", In(2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Arithmetic), OnnxLayerMapping.Arithmetic),
        new("ReduceMean", In(1).Since(18, 1, 2), Map: OnnxLayerMapping.ReduceMean),

        new("Flatten", In(1), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Reshaped), OnnxShapeMapping.Flatten),
        new("Reshape", In(2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Reshaped), OnnxShapeMapping.Reshape),
        new("Squeeze", In(1).Since(13, 1, 2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Reshaped), OnnxShapeMapping.SqueezeOrUnsqueeze),
        new("Unsqueeze", In(1).Since(13, 2, 2), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Reshaped), OnnxShapeMapping.SqueezeOrUnsqueeze),
        new("Transpose", In(1), Map: OnnxShapeMapping.Transpose),
        new("Concat", In(1, int.MaxValue), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Concat), OnnxShapeMapping.Concat),
        new("Split", In(1).Since(13, 1, 2), Map: OnnxOpsetNormalisation.Split),
        new("Slice", In(1).Since(10, 3, 5), Fold(OnnxFoldWhen.SmallConstants, OnnxConstantFolder.Slice), OnnxOpsetNormalisation.Slice),
        new("Pad", In(1).Since(11, 2, 3).Since(18, 2, 4), Map: OnnxOpsetNormalisation.Pad),
        new("Resize", In(2, 2).Since(11, 1, 4), Map: OnnxResizeMapping.Resize),
        new("Upsample", In(1).Since(9, 2, 2), Map: OnnxResizeMapping.Resize),

        new("Identity", In(1), Fold(OnnxFoldWhen.Constants, n => n.Const(0)), OnnxLayerMapping.PassThrough),
        new("Dropout", In(1).Since(12, 1, 3), Map: OnnxLayerMapping.PassThrough),
        new("Cast", In(1), Fold(OnnxFoldWhen.Constants, OnnxConstantFolder.Cast), OnnxLayerMapping.PassThrough),
        new("DequantizeLinear", In(2, 3), Fold(OnnxFoldWhen.Constants, OnnxConstantFolder.DequantizeLinear), OnnxLayerMapping.DequantizeLinear),
        new("QuantizeLinear", In(2, 3), Map: OnnxLayerMapping.QuantizeLinear),
    ];

    private static readonly Dictionary<string, OnnxOperator> s_byType = s_operators.ToDictionary(o => o.Type, StringComparer.Ordinal);

    /// <summary>Default-domain operators that become IR nodes; each may also fold when its inputs are constant.</summary>
    public static IReadOnlySet<string> MappedOperators { get; } = s_operators.Where(o => o.Map is not null).Select(o => o.Type).ToHashSet(StringComparer.Ordinal);

    /// <summary>Default-domain operators read only as constants, folded at read time; on a computed value they are NM0202.</summary>
    public static IReadOnlySet<string> FoldedOperators { get; } = s_operators.Where(o => o.Map is null).Select(o => o.Type).ToHashSet(StringComparer.Ordinal);

    /// <summary>The entry for <paramref name="node"/>'s operator; null for another domain or an operator not listed.</summary>
    public static OnnxOperator? Find(NodeProto node) =>
        node.Domain is "" or "ai.onnx" ? s_byType.GetValueOrDefault(node.OpType) : null;

    /// <summary>Inputs the node's operator requires and accepts at <paramref name="opset"/>; null for an operator not listed.</summary>
    public static (int Required, int Accepted)? Arity(NodeProto node, long opset) => Find(node)?.Arity.At(opset);

    private static OnnxArity In(int count) => OnnxArity.Of(count, count);

    private static OnnxArity In(int required, int accepted) => OnnxArity.Of(required, accepted);

    private static OnnxFold Fold(OnnxFoldWhen when, Func<OnnxNode, OnnxConstant?> compute) => new(when, compute);
}
