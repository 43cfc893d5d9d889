using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Reorders axes (SSD's Permute): output axis i is input axis <c>order[i]</c>. Axes not named keep
/// their order after the named ones, as in SSD. Pure data movement.
/// </summary>
public sealed class Permute : OpKind<PermuteAttributes>
{
    public const string OpType = "Permute";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new PermuteKernel();

    protected override PermuteAttributes Parse(AttributeReader attributes) => new(attributes.Ints("order", []));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var order = new List<long>();
        foreach (var axis in AttributesOf(context.Node).Order)
        {
            if (axis < 0 || axis >= x.Rank || order.Contains(axis))
            {
                throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"order names axis {axis}, which is out of range for {x} or repeated.");
            }

            order.Add(axis);
        }

        for (long axis = 0; axis < x.Rank; axis++)
        {
            if (!order.Contains(axis))
            {
                order.Add(axis);
            }
        }

        return [new Shape([.. order.Select(a => x[(int)a])])];
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}

/// <summary>Attributes of <see cref="Permute"/>: the leading axes of the output in input numbering (Caffe's order); the axes not named follow in their order.</summary>
public sealed record PermuteAttributes(long[] Order);
