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

    public override Shape[] InferShapes(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Softmax: Checked.Mul(4, context.Output.ElementCount)) };
}
