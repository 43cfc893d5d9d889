using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Per-channel add <c>y = x + bias_c</c> (Caffe Bias with a learned bias). Inputs: X, bias (C).
/// Cost: 1 FLOP per element (normalisation column, as <see cref="Scale"/>).
/// </summary>
public sealed class Bias : OpKind
{
    public override string Name => "Bias";

    public override Shape[] InferShapes(OpContext context)
    {
        var x = context.Input(0);
        var b = context.Input(1);
        var channels = x.Rank > 1 ? x[1] : x[0];
        return b.ElementCount == channels
            ? [x]
            : throw context.Error(DiagnosticCodes.ShapeMismatch, $"bias has {b.ElementCount} values for {channels} channels.");
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: context.Output.ElementCount) };
}
