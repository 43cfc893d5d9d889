using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Channel concatenation of images with equal H and W (Darknet [route]). Darknet's <c>groups</c> /
/// <c>group_id</c> take channel slice <c>group_id</c> of <c>groups</c> from every input before
/// concatenating. Attribute <c>axis</c> (Caffe): any axis of inputs of any rank (default 1). No
/// arithmetic; memory traffic only.
/// </summary>
public sealed class Concat : OpKind<ConcatAttributes>
{
    public const string OpType = "Concat";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ConcatKernel();

    protected override ConcatAttributes Parse(AttributeReader attributes)
    {
        var groups = attributes.Int("groups", 1);
        var groupId = attributes.Int("group_id", 0);
        return groups > 0 && groupId >= 0 && groupId < groups
            ? new ConcatAttributes(attributes.Int("axis", 1), groups, groupId)
            : throw attributes.OutOfRange($"group_id={groupId} must lie in [0, groups={groups}).");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var (axis, groups, _) = AttributesOf(context.Node);
        if (groups == 1 && (axis != 1 || context.Input(0).Rank != 4))
        {
            return [AlongAxis(context, axis)];
        }

        var first = context.Image(0);
        long channels = 0;
        for (var i = 0; i < context.InputCount; i++)
        {
            var x = context.Image(i);
            if (x.H != first.H || x.W != first.W || x.N != first.N)
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"input {i} is {x.W}x{x.H} but input 0 is {first.W}x{first.H}; concatenated layers need the same width and height.");
            }

            if (x.C % groups != 0)
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"input {i} has {x.C} channels, not divisible by groups={groups}.");
            }

            channels = Checked.Add(channels, x.C / groups);
        }

        return [context.Positive(Shape.Nchw(first.N, channels, first.H, first.W))];
    }

    /// <summary>Caffe's Concat (any rank, any axis; negative counts from the end): every other axis must agree.</summary>
    private static Shape AlongAxis(OpContext context, long axisAttribute)
    {
        var first = context.Input(0);
        var axis = axisAttribute < 0 ? axisAttribute + first.Rank : axisAttribute;
        if (axis < 0 || axis >= first.Rank)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"axis {axisAttribute} does not exist in {first} (rank {first.Rank}).");
        }

        var dims = first.Dims.ToArray();
        for (var i = 1; i < context.InputCount; i++)
        {
            var x = context.Input(i);
            var agrees = x.Rank == first.Rank && Enumerable.Range(0, x.Rank).All(a => a == axis || x[a] == first[a]);
            if (!agrees)
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"input {i} is {x} but input 0 is {first}; only axis {axis} may differ.");
            }

            dims[axis] = Checked.Add(dims[axis], x[(int)axis]);
        }

        return context.Positive(new Shape(dims));
    }

    public override OpCost Cost(OpContext context)
    {
        // Only the selected slice of each input is read.
        var groups = AttributesOf(context.Node).Groups;
        long reads = 0;
        for (var i = 0; i < context.InputCount; i++)
        {
            reads = Checked.Add(reads, context.Input(i).ElementCount / groups);
        }

        return new OpCost { NaiveInputReads = reads, IdealInputReads = reads };
    }
}

/// <summary>
/// Attributes of <see cref="Concat"/>: the axis (negative counts from the end), and darknet's route
/// groups: of each input only channel group <see cref="GroupId"/> of <see cref="Groups"/> is taken.
/// </summary>
public sealed record ConcatAttributes(long Axis, long Groups, long GroupId);
