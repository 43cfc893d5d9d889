using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Nearest-neighbour resize by an integer factor (Darknet [upsample]; a negative stride
/// downsamples). Attribute <c>scale</c> multiplies the result (one FLOP per element when not 1).
/// </summary>
public sealed class Upsample : OpKind
{
    public override string Name => "Upsample";

    internal override Kernel Kernel { get; } = new UpsampleKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var stride = context.Attributes.Int("stride");
        return stride switch
        {
            > 0 => [Shape.Nchw(x.N, x.C, Checked.Mul(x.H, stride), Checked.Mul(x.W, stride))],
            < 0 => [context.Positive(Shape.Nchw(x.N, x.C, x.H / -stride, x.W / -stride))],
            _ => throw context.Error(DiagnosticCodes.AttributeOutOfRange, "stride must not be 0."),
        };
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: context.Attributes.Float("scale", 1) != 1 ? context.Output.ElementCount : 0) };
}
