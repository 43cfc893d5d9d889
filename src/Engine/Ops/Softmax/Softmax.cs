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
    public override string Name => "Softmax";

    internal override Kernel Kernel { get; } = new SoftmaxKernel();

    protected override SoftmaxAttributes Parse(AttributeReader attributes) =>
        new(attributes.Has("axis") ? attributes.Int("axis") : null, attributes.Flag("coerce_2d"), attributes.Int("groups", 1), attributes.Float("temperature", 1), attributes.Flag("hierarchical"));

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
/// darknet's per-item softmax in <see cref="Groups"/> groups with a temperature. <see cref="Hierarchical"/> is Darknet's <c>tree=</c>: darknet
/// normalises each group of siblings of a class tree separately (softmax_tree). Not computed: the
/// kernel takes the softmax over <c>Groups</c>, which costs the same, and the ONNX export refuses
/// the layer (NM0301) rather than write a different function.
/// </summary>
public sealed record SoftmaxAttributes(long? Axis, bool Coerce2D, long Groups, double Temperature, bool Hierarchical);
