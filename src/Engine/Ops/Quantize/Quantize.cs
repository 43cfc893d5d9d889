using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Linear quantization of every element onto the integers [<c>qmin</c>, <c>qmax</c>], kept as float
/// (each an exact integer): <c>y = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)</c>, as
/// ONNX QuantizeLinear computes it per tensor (uint8: 0..255, int8: -128..127). Read from an ONNX file
/// with calibrated activations (quantize=int8-static), whose DequantizeLinear reads it back as
/// <c>(y - zero_point) * scale</c>. Cost: a division and an addition per element.
/// </summary>
public sealed class Quantize : OpKind<QuantizeAttributes>
{
    public const string OpType = "Quantize";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new QuantizeKernel();

    protected override QuantizeAttributes Parse(AttributeReader attributes)
    {
        var scale = attributes.Float("scale");
        var qmin = attributes.Int("qmin", 0, -128, 255);
        var qmax = attributes.Int("qmax", 255, -128, 255);
        var zeroPoint = attributes.Int("zero_point", 0, -128, 255);
        if (!(scale > 0) || !double.IsFinite(scale))
        {
            throw attributes.OutOfRange($"scale {scale} must be positive and finite.");
        }

        return qmin < qmax && zeroPoint >= qmin && zeroPoint <= qmax
            ? new QuantizeAttributes(scale, zeroPoint, qmin, qmax)
            : throw attributes.OutOfRange($"zero point {zeroPoint} must lie in [qmin {qmin}, qmax {qmax}], with qmin below qmax.");
    }

    /// <summary>The attributes of a Quantize node computing <paramref name="quantization"/>, for a caller that inserts one (a lossy export's rounding, measured by the pipeline).</summary>
    public static Attributes AttributesFor(QuantizeAttributes quantization)
    {
        ArgumentNullException.ThrowIfNull(quantization);
        return new Attributes().Set("scale", quantization.Scale).Set("zero_point", quantization.ZeroPoint).Set("qmin", quantization.QMin).Set("qmax", quantization.QMax);
    }

    protected override Shape[] Infer(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: Checked.Mul(2, context.Output.ElementCount)) };
}

/// <summary>Attributes of <see cref="Quantize"/>: the scale, the integer that 0 maps to, and the integer range.</summary>
public sealed record QuantizeAttributes(double Scale, long ZeroPoint, long QMin, long QMax);
