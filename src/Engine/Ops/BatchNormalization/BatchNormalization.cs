using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Inference batch normalisation per channel: <c>y = gamma * (x - mean) / D(var) + beta</c>.
/// Inputs (ONNX order): X, scale (gamma), B (beta), mean, var, each of length C.
/// Attributes: epsilon; epsilon_placement "inside" (<c>D = sqrt(var + eps)</c>, the default) or
/// "outside" (<c>D = sqrt(var) + eps</c>, pjreddie Darknet's CPU forward).
/// Secondary cost: 2 FLOPs per element (the folded scale and shift).
/// </summary>
public sealed class BatchNormalization : OpKind
{
    public override string Name => "BatchNormalization";

    internal override Kernel Kernel { get; } = new BatchNormalizationKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var channels = PerChannel.Channels(x);
        _ = context.Input(3);
        _ = context.Input(4);
        PerChannel.RequireCount(context, 1, "scale", channels, "channels");
        PerChannel.RequireCount(context, 2, "bias", channels, "channels");
        PerChannel.RequireCount(context, 3, "mean", channels, "channels");
        PerChannel.RequireCount(context, 4, "variance", channels, "channels");
        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul(2, context.Output.ElementCount)) };
}
