using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Picks entries of one axis by constant indices (ONNX Gather with constant indices): the output is
/// the input's shape with <c>axis</c> replaced by the indices' shape, entry <c>i</c> of the indices
/// being input entry <c>indices[i]</c> along the axis (negative counts from the end). The indices are
/// part of the model, like a Reshape's shape, so they are attributes rather than a tensor: the
/// executor runs float32 tensors only, and the cost model needs them to know the output shape. Pure
/// data movement.
/// </summary>
public sealed class Gather : OpKind<GatherAttributes>
{
    public const string OpType = "Gather";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new GatherKernel();

    protected override GatherAttributes Parse(AttributeReader attributes)
    {
        var indices = attributes.Ints("indices");
        var shape = attributes.Ints("indices_shape", [indices.Length]);
        return shape.All(d => d >= 0) && shape.Aggregate(1L, (p, d) => p * d) == indices.Length
            ? new GatherAttributes(attributes.Int("axis", 0), indices, shape)
            : throw attributes.OutOfRange($"indices_shape [{string.Join(", ", shape)}] does not hold the {indices.Length} indices.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        var axis = attributes.Axis;
        if (axis < -x.Rank || axis >= x.Rank)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"axis {axis} is not an axis of {x} (rank {x.Rank}).");
        }

        var at = (int)(axis < 0 ? axis + x.Rank : axis);
        if (attributes.Indices.FirstOrDefault(i => i < -x[at] || i >= x[at], long.MinValue) is var bad && bad != long.MinValue)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"index {bad} is outside axis {at} of {x} (size {x[at]}).");
        }

        return [context.Positive(new Shape([.. x.Dims.Take(at), .. attributes.IndicesShape, .. x.Dims.Skip(at + 1)]))];
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}

/// <summary>Attributes of <see cref="Gather"/>: the axis, the indices (flattened) and their shape.</summary>
public sealed record GatherAttributes(long Axis, long[] Indices, long[] IndicesShape)
{
    /// <summary>The axis counted from 0 in an input of <paramref name="rank"/>.</summary>
    public int AxisIn(int rank) => (int)(Axis < 0 ? Axis + rank : Axis);
}
