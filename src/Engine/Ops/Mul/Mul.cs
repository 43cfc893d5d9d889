using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Element-wise product with numpy broadcasting (Darknet [sam]: same shapes; [scale_channels]:
/// a (N, C, 1, 1) or (N, 1, H, W) scale times a feature map). One FLOP per output element.
/// </summary>
public sealed class Mul : OpKind
{
    public override string Name => "Mul";

    internal override Kernel Kernel { get; } = new MulKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var a = context.Input(0);
        var b = context.Input(1);
        var rank = Math.Max(a.Rank, b.Rank);
        var dims = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i - (rank - a.Rank) is var ia && ia >= 0 ? a[ia] : 1;
            var db = i - (rank - b.Rank) is var ib && ib >= 0 ? b[ib] : 1;
            dims[i] = da == db || db == 1 ? da
                : da == 1 ? db
                : throw context.Error(DiagnosticCodes.ShapeMismatch, $"cannot multiply {a} by {b}: axis {i} is {da} and {db}.");
        }

        return [new Shape(dims)];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: context.Output.ElementCount) };
}
