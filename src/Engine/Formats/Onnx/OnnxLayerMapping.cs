using NeuralBuild.Engine.Ir;
using AttributeType = NeuralBuild.Engine.Formats.Onnx.Proto.AttributeProto.Types.AttributeType;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>Mappers of the ONNX operators whose attributes need more than a line in <see cref="OnnxOperatorMap"/>.</summary>
internal static class OnnxLayerMapping
{
    public static void BatchNormalization(OnnxNode n)
    {
        if (n.Proto.Output.Skip(1).Any(o => o.Length > 0) || n.Attr.Flag("training_mode", 0) != 0)
        {
            throw n.Invalid("training mode (batch statistics, running mean / variance outputs) is not supported; export the model in eval mode");
        }

        if (n.Attr.Flag("spatial", 1) == 0)
        {
            throw n.Invalid("spatial=0 (statistics per element rather than per channel) is not supported");
        }

        n.Emit("BatchNormalization", [n.X, n.Weight(1, "scale"), n.Weight(2, "B"), n.Weight(3, "mean"), n.Weight(4, "var")],
            new Attributes().Set("epsilon", (double)n.Attr.Float("epsilon", 1e-5f)));
    }

    public static void HardSigmoid(OnnxNode n) =>
        n.Activation("hardsigmoid", new Attributes().Set("alpha", (double)n.Attr.Float("alpha", 0.2f)).Set("beta", (double)n.Attr.Float("beta", 0.5f)));

    /// <summary>
    /// QuantizeLinear of a computed value, per tensor (calibrated activations, quantize=int8-static):
    /// the IR's Quantize, its integers held as float. The zero point's type gives the range: uint8
    /// (the default, also when it is omitted) 0..255, int8 -128..127. A per-axis scale is NM0202.
    /// </summary>
    public static void QuantizeLinear(OnnxNode n)
    {
        var (scale, zeroPoint) = PerTensor(n);
        var signed = n.Has(2) && n.Const(2).Type == DT.Int8;
        if (n.Has(2) && n.Const(2).Type is not (DT.Int8 or DT.Uint8))
        {
            throw n.Unsupported($"its zero point is {n.Const(2).Type}; uint8 and int8 are supported");
        }

        n.Emit("Quantize", [n.X], new Attributes().Set("scale", scale).Set("zero_point", zeroPoint).Set("qmin", signed ? -128L : 0L).Set("qmax", signed ? 127L : 255L));
    }

    /// <summary>
    /// DequantizeLinear of a computed value (a QuantizeLinear's integers), per tensor: (q - zero point) *
    /// scale, as Power (scale * q + shift, shift = -zero point * scale). A constant one is folded instead.
    /// </summary>
    public static void DequantizeLinear(OnnxNode n)
    {
        var (scale, zeroPoint) = PerTensor(n);
        n.Emit("Power", [n.X], new Attributes().Set("power", 1.0).Set("scale", scale).Set("shift", -zeroPoint * scale));
    }

    /// <summary>The scalar scale and zero point (0 when omitted) of a Quantize / DequantizeLinear; per axis, NM0202.</summary>
    private static (double Scale, long ZeroPoint) PerTensor(OnnxNode n)
    {
        if (n.Const(1, "scale").Shape.ElementCount != 1 || (n.Has(2) && n.Const(2, "zero point").Shape.ElementCount != 1))
        {
            throw n.Unsupported("a per-axis scale on a computed value is not supported; per tensor (scalar scale and zero point) is");
        }

        return ((float)n.Scalar(1, "scale"), n.Has(2) ? (long)n.Scalar(2, "zero point") : 0);
    }

    /// <summary>Add, Sub, Mul and Div: the IR's broadcasting Arithmetic.</summary>
    public static void Arithmetic(OnnxNode n) =>
        n.Emit("Arithmetic", [n.Value(0), n.Value(1)], new Attributes().Set("operation", n.OpType.ToLowerInvariant()));

    public static void Gemm(OnnxNode n)
    {
        if (n.Attr.Flag("transA", 0) != 0)
        {
            throw n.Invalid("transA=1 is not supported");
        }

        var a = n.Value(0);
        if (n.ShapeOf(a).Rank != 2)
        {
            throw n.Invalid($"input A is {n.ShapeOf(a)}; Gemm takes a matrix");
        }

        var attributes = new Attributes()
            .Set("transpose", n.Attr.Flag("transB", 0) != 0 ? 0L : 1L)
            .Set("output_rank", 2L)
            .Set("alpha", (double)n.Attr.Float("alpha", 1f))
            .Set("beta", (double)n.Attr.Float("beta", 1f));
        n.Emit("FullyConnected", [a, n.Weight(1, "B"), .. n.Optional(2)], attributes);
    }

    public static void ReduceMean(OnnxNode n)
    {
        var attributes = new Attributes().Set("keepdims", n.Attr.Flag("keepdims", 1));
        var axes = n.Attr.Ints("axes") ?? n.OptionalInts(1, "axes");
        if (axes is { Length: 0 } && n.Attr.Flag("noop_with_empty_axes", 0) != 0)
        {
            // Opset 18: no axes with noop_with_empty_axes=1 leaves the input as it is.
            n.Emit("Identity", [n.X], new Attributes(), inPlace: true);
            return;
        }

        if (axes is { Length: > 0 })
        {
            attributes.Set("axes", axes);
        }

        n.Emit("ReduceMean", [n.X], attributes);
    }

    /// <summary>
    /// Identity, Dropout (inference: its input) and Cast between float types, which the float32 IR
    /// holds unchanged. Anything these would compute differently is refused: Dropout in training
    /// mode, a mask output, a Cast to an integer, boolean or 16-bit float type (which rounds).
    /// </summary>
    public static void PassThrough(OnnxNode n)
    {
        if (n.Proto.Output.Skip(1).Any(o => o.Length > 0))
        {
            throw n.Invalid("the mask output is not supported");
        }

        if (n.OpType == "Dropout" && n.Has(2) && n.Doubles(2, "training_mode").Any(v => v != 0))
        {
            throw n.Invalid("training_mode=true (random dropout) is not supported; export the model in eval mode");
        }

        if (n.OpType == "Cast")
        {
            var to = CastTarget(n);
            if (to is not (DT.Float or DT.Double))
            {
                throw n.Invalid($"a Cast of a computed value to {to} is not supported; NeuralBuild computes in float32, where only casts to FLOAT and DOUBLE leave the values unchanged");
            }
        }

        // A Cast keeps its target type: in the file it changes the element type (to DOUBLE, or to
        // FLOAT from another type), so RemoveDropout leaves it where the writer must keep it.
        var attributes = n.OpType == "Cast" ? new Attributes().Set("to", (long)CastTarget(n)) : new Attributes();
        n.Emit(n.OpType == "Dropout" ? "Dropout" : "Identity", [n.Value(0)], attributes, inPlace: true);
    }

    /// <summary>Cast's required <c>to</c>: a numeric element type NeuralBuild reads.</summary>
    public static DT CastTarget(OnnxNode n)
    {
        var to = n.Attr.Get("to", AttributeType.Int) ?? throw n.Invalid("attribute 'to' is missing");
        return Enum.IsDefined((DT)to.I) && OnnxTensor.ElementSizeOf((DT)to.I) is not null
            ? (DT)to.I
            : throw n.Invalid($"'to' = {to.I} is not a numeric ONNX element type");
    }
}
