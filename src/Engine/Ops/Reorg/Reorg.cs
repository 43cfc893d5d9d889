using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [reorg] / [reorg3d]: moves stride x stride spatial blocks into channels
/// (<c>reverse=1</c> moves them back). pjreddie's <c>extra=N</c> flattens the output and appends
/// N elements. Pure data movement.
/// </summary>
public sealed class Reorg : OpKind<ReorgAttributes>
{
    public const string OpType = "Reorg";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ReorgKernel();

    private static readonly (string, bool)[] s_flavors = [("reorg", false), ("reorg3d", true)];

    protected override ReorgAttributes Parse(AttributeReader attributes)
    {
        var stride = attributes.Int("stride");
        return stride > 0
            ? new ReorgAttributes(stride, attributes.Flag("reverse"), attributes.Int("extra", 0), attributes.Choice("flavor", "reorg", s_flavors))
            : throw attributes.OutOfRange("stride must be positive.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var (s, reverse, extra, _) = AttributesOf(context.Node);
        var block = Checked.Mul(s, s);
        if (extra > 0)
        {
            return [Shape.Nchw(x.N, Checked.Add(x.ElementsPerItem, extra), 1, 1)];
        }

        if (reverse)
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

/// <summary>
/// Attributes of <see cref="Reorg"/>: the block stride, the direction (<see cref="Reverse"/>: depth to
/// space), darknet's <c>extra</c> (flatten and append that many zeros instead) and which of darknet's
/// two index pairings: [reorg] (false) or [reorg3d] (true).
/// </summary>
public sealed record ReorgAttributes(long Stride, bool Reverse, long Extra, bool Reorg3d);
