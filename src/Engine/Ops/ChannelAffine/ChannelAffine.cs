using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// The per-channel affine map <c>y = scale_c * x + bias_c</c> (Caffe Scale and Bias; a constant
/// per-channel Mul/Add in ONNX). Inputs: X, scale (C values, or empty: 1), bias (C values, or
/// absent or empty: 0); at least one of them. Cost: 1 FLOP per element for each of scale and bias
/// present (normalisation column).
/// </summary>
public sealed class ChannelAffine : OpKind
{
    public const string OpType = "ChannelAffine";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ChannelAffineKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        if (!context.HasInput(1) && !context.HasInput(2))
        {
            throw context.Error(DiagnosticCodes.ParameterShapeMismatch, "neither a scale nor a bias is given.");
        }

        var channels = PerChannel.Channels(x);
        PerChannel.RequireCount(context, 1, "scale", channels, "channels");
        PerChannel.RequireCount(context, 2, "bias", channels, "channels");
        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul((context.HasInput(1) ? 1 : 0) + (context.HasInput(2) ? 1 : 0), context.Output.ElementCount)) };
}
