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
public sealed class Softmax : OpKind
{
    public override string Name => "Softmax";

    internal override Kernel Kernel { get; } = new SoftmaxKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        if (context.Attributes.Has("axis"))
        {
            var axis = context.Attributes.Int("axis");
            if (axis < -x.Rank || axis >= x.Rank)
            {
                throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"axis {axis} is not an axis of {x} (rank {x.Rank}).");
            }

            return [x];
        }

        var groups = context.Attributes.Int("groups", 1);
        if (x.Rank == 0 || groups <= 0 || x.ElementsPerItem % groups != 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"groups={groups} must be positive and divide the {(x.Rank == 0 ? 0 : x.ElementsPerItem)} values of each item of {x}.");
        }

        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Softmax: Checked.Mul(4, context.Output.ElementCount)) };
}
