using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Softmax over each of <c>groups</c> equal slices of the flattened item (Darknet [softmax]);
/// <c>temperature</c> divides the logits. With <c>axis</c> (Caffe, ONNX): along that axis; adding
/// <c>coerce_2d</c> (ONNX before opset 13): over all axes from <c>axis</c> on together. Cost: 4 FLOPs per element (subtract the max, exp,
/// add to the sum, divide).
/// </summary>
public sealed class Softmax : OpKind<SoftmaxAttributes>
{
    public const string OpType = "Softmax";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new SoftmaxKernel();

    protected override SoftmaxAttributes Parse(AttributeReader attributes) =>
        new(attributes.Has("axis") ? attributes.Int("axis") : null, attributes.Flag("coerce_2d"), attributes.Int("groups", 1), attributes.Float("temperature", 1), GroupSizes(attributes), MissingFile(attributes));

    /// <summary>Why the groups are unknown when the reader could not find the class tree (NM0027 when the layer is computed or exported).</summary>
    internal static string? MissingFile(AttributeReader attributes) => attributes.Has("missing_file") ? attributes.String("missing_file") : null;

    private static long[] GroupSizes(AttributeReader attributes)
    {
        var sizes = attributes.Ints("group_sizes", []);
        return sizes.All(size => size >= 0) ? sizes : throw attributes.OutOfRange($"group_sizes must not be negative (a class tree's groups of siblings).");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        if (attributes.Axis is { } axis)
        {
            if (axis < -x.Rank || axis >= x.Rank)
            {
                throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"axis {axis} is not an axis of {x} (rank {x.Rank}).");
            }

            return [x];
        }

        if (attributes.GroupSizes.Length > 0 && attributes.GroupSizes.Sum() != x.ElementsPerItem)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"the class tree's {attributes.GroupSizes.Length} groups hold {attributes.GroupSizes.Sum()} classes, but each item of {x} has {x.ElementsPerItem} values; the tree must be the one the layer was trained with.");
        }

        var groups = attributes.Groups;
        if (x.Rank == 0 || groups <= 0 || x.ElementsPerItem % groups != 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"groups={groups} must be positive and divide the {(x.Rank == 0 ? 0 : x.ElementsPerItem)} values of each item of {x}.");
        }

        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Softmax: Checked.Mul(4, context.Output.ElementCount)) };
}

/// <summary>
/// Attributes of <see cref="Softmax"/>: along an <see cref="Axis"/> (Caffe, ONNX; with
/// <see cref="Coerce2D"/> ONNX before opset 13 flattens to 2-D at the axis), or when there is none
/// darknet's per-item softmax in <see cref="Groups"/> groups with a temperature. <see cref="GroupSizes"/>, when not empty,
/// is Darknet's hierarchical softmax (<c>tree=</c>, softmax_tree): each item is cut into consecutive
/// groups of these sizes, a class tree's runs of siblings, and each group gets its own softmax at the
/// temperature; <see cref="Groups"/> is then not used (darknet ignores it too). <see cref="MissingClassTree"/>:
/// the layer is hierarchical but its tree file was not found when the model was read, so its groups
/// are unknown: the costs are known (they do not depend on the groups), computing it is NM0027.
/// </summary>
public sealed record SoftmaxAttributes(long? Axis, bool Coerce2D, long Groups, double Temperature, long[] GroupSizes, string? MissingClassTree)
{
    public bool Hierarchical => GroupSizes.Length > 0 || MissingClassTree is not null;
}
