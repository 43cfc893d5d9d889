using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [reorg] / [reorg3d]: moves stride x stride spatial blocks into channels
/// (<c>reverse=1</c> moves them back). pjreddie's <c>extra=N</c> flattens the output and appends
/// N elements. Pure data movement.
/// </summary>
public sealed class Reorg : OpKind
{
    public override string Name => "Reorg";

    internal override Kernel Kernel { get; } = new ReorgKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var s = context.Attributes.Int("stride");
        var extra = context.Attributes.Int("extra", 0);
        if (s <= 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, "stride must be positive.");
        }

        var block = Checked.Mul(s, s);
        if (extra > 0)
        {
            return [Shape.Nchw(x.N, Checked.Add(x.ElementsPerItem, extra), 1, 1)];
        }

        if (context.Attributes.Int("reverse", 0) != 0)
        {
            return x.C % block == 0
                ? [Shape.Nchw(x.N, x.C / block, Checked.Mul(x.H, s), Checked.Mul(x.W, s))]
                : throw context.Error(DiagnosticCodes.ShapeMismatch, $"{x.C} channels cannot be spread over {s}x{s} blocks.");
        }

        return x.H % s == 0 && x.W % s == 0
            ? [context.Positive(Shape.Nchw(x.N, Checked.Mul(x.C, block), x.H / s, x.W / s))]
            : throw context.Error(DiagnosticCodes.ShapeMismatch, $"{x.W}x{x.H} is not divisible by stride {s}.");
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}
