using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Nearest-neighbour resize by an integer factor (Darknet [upsample]; a negative stride
/// downsamples). Attribute <c>scale</c> multiplies the result (one FLOP per element when not 1).
/// </summary>
public sealed class Upsample : OpKind<UpsampleAttributes>
{
    public const string OpType = "Upsample";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new UpsampleKernel();

    protected override UpsampleAttributes Parse(AttributeReader attributes)
    {
        var stride = attributes.Int("stride");
        return stride != 0 ? new UpsampleAttributes(stride, attributes.Float("scale", 1)) : throw attributes.OutOfRange("stride must not be 0.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var stride = AttributesOf(context.Node).Stride;
        return stride > 0
            ? [Shape.Nchw(x.N, x.C, Checked.Mul(x.H, stride), Checked.Mul(x.W, stride))]
            : [context.Positive(Shape.Nchw(x.N, x.C, x.H / -stride, x.W / -stride))];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: AttributesOf(context.Node).Scale != 1 ? context.Output.ElementCount : 0) };
}

/// <summary>Attributes of <see cref="Upsample"/> (darknet [upsample]): the stride (negative: downsample by its magnitude) and the factor every value is multiplied by.</summary>
public sealed record UpsampleAttributes(long Stride, double Scale);
