using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// <c>y = (shift + scale * x) ^ power</c> per element (Caffe Power). Cost: one FLOP per element for
/// each term that does something (scale != 1, shift != 0, power != 1).
/// </summary>
public sealed class Power : OpKind<PowerAttributes>
{
    public const string OpType = "Power";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new PowerKernel();

    protected override PowerAttributes Parse(AttributeReader attributes) =>
        new(attributes.Float("power", 1), attributes.Float("scale", 1), attributes.Float("shift", 0));

    /// <summary>The attributes of a Power node computing <paramref name="power"/>, for a caller that inserts one (a quantized value read back, measured by the pipeline).</summary>
    public static Attributes AttributesFor(PowerAttributes power)
    {
        ArgumentNullException.ThrowIfNull(power);
        return new Attributes().Set("power", power.Power).Set("scale", power.Scale).Set("shift", power.Shift);
    }

    protected override Shape[] Infer(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context)
    {
        var a = AttributesOf(context.Node);
        var terms = (a.Scale != 1 ? 1 : 0) + (a.Shift != 0 ? 1 : 0) + (a.Power != 1 ? 1 : 0);
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(terms, context.Output.ElementCount)) };
    }
}

/// <summary>Attributes of <see cref="Power"/>: <c>y = (shift + scale * x) ^ power</c>.</summary>
public sealed record PowerAttributes(double Power, double Scale, double Shift);
