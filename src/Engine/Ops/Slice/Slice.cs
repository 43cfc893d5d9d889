using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Cuts the input along <c>axis</c> into one piece per output (Caffe Slice). <c>slice_points</c>
/// (ascending, one fewer than the outputs) give the cut positions; without them the axis is split
/// into equal parts. Pure data movement.
/// </summary>
public sealed class Slice : OpKind<SliceAttributes>
{
    public override string Name => "Slice";

    internal override Kernel Kernel { get; } = new SliceKernel();

    protected override SliceAttributes Parse(AttributeReader attributes) => new(attributes.Int("axis", 1), attributes.Ints("slice_points", []));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var (axisAttribute, points) = AttributesOf(context.Node);
        var axis = (int)(axisAttribute < 0 ? axisAttribute + x.Rank : axisAttribute);
        if (axis < 0 || axis >= x.Rank)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"axis {axisAttribute} does not exist in {x}.");
        }

        var outputs = context.Node.Outputs.Count;
        var length = x[axis];
        var bounds = new List<long> { 0 };
        if (points.Length > 0)
        {
            if (points.Length != outputs - 1)
            {
                throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"{points.Length} slice point(s) for {outputs} outputs; give one fewer than the outputs.");
            }

            bounds.AddRange(points);
        }
        else
        {
            if (length % outputs != 0)
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"axis {axis} has {length} entries, not divisible into {outputs} equal slices.");
            }

            for (var i = 1; i < outputs; i++)
            {
                bounds.Add(length / outputs * i);
            }
        }

        bounds.Add(length);
        var shapes = new Shape[outputs];
        for (var i = 0; i < outputs; i++)
        {
            if (bounds[i + 1] <= bounds[i])
            {
                throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"slice points must increase strictly inside (0, {length}); slice {i} would be [{bounds[i]}, {bounds[i + 1]}).");
            }

            shapes[i] = x.WithDim(axis, bounds[i + 1] - bounds[i]);
        }

        return shapes;
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}

/// <summary>Attributes of <see cref="Slice"/> (Caffe Slice): the axis and the points where one output ends and the next begins (none: equal parts).</summary>
public sealed record SliceAttributes(long Axis, long[] SlicePoints);
