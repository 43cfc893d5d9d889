using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Per-channel affine map <c>y = scale_c * x + bias_c</c> (Caffe Scale; a constant per-channel
/// Mul/Add in ONNX). Inputs: X, scale (C), optional bias (C). Cost: 2 FLOPs per element (1 without bias).
/// </summary>
public sealed class Scale : OpKind
{
    public override string Name => "Scale";

    internal override Kernel Kernel { get; } = new ScaleKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = PerChannel.Require(context, 1, "scale");
        PerChannel.RequireCount(context, 2, "bias", PerChannel.Channels(x), "channels");
        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul(context.HasInput(2) ? 2 : 1, context.Output.ElementCount)) };
}
