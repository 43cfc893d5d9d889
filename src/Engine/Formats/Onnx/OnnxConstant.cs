using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// A value known when the model is read: an initializer, a Constant node's value, or the result of
/// a fold. Values are held as doubles, which hold the int64 shape arithmetic exporters emit exactly.
/// </summary>
internal sealed class OnnxConstant(Shape shape, DT type)
{
    /// <summary>Constants larger than this are not expanded to fold arithmetic on them.</summary>
    public const long FoldLimit = 1 << 20;

    public Shape Shape { get; } = shape;

    public DT Type { get; } = type;

    /// <summary>Stored tensor (initializer or Constant value); null for computed constants.</summary>
    public OnnxTensor? Tensor { get; init; }

    /// <summary>The ONNX initializer this constant is (an alias through Identity keeps the name).</summary>
    public string? Initializer { get; init; }

    public double[]? Values { get; set; }

    public bool IsInteger => Type is not (DT.Float or DT.Float16 or DT.Double or DT.Bfloat16);

    public bool IsSmall => Shape.ElementCount <= FoldLimit;

    /// <summary>The values, read from the stored tensor the first time they are needed.</summary>
    public double[] Elements() => Values ??= Tensor!.ToDoubles();
}
