using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [crop] at inference: the centred crop_height x crop_width window, rescaled from
/// [0,1] to [-1,1] (<c>2x - 1</c>) unless <c>noadjust=1</c>. Cost: 2 FLOPs per element when adjusting.
/// </summary>
public sealed class DarknetCrop : OpKind
{
    public override string Name => "DarknetCrop";

    internal override Kernel Kernel { get; } = new DarknetCropKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var h = context.Attributes.Int("crop_height");
        var w = context.Attributes.Int("crop_width");
        return h <= 0 || w <= 0 || h > x.H || w > x.W
            ? throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"crop {w}x{h} must be positive and fit the {x.W}x{x.H} input.")
            : [Shape.Nchw(x.N, x.C, h, w)];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: context.Attributes.Int("noadjust", 0) != 0 ? 0 : Checked.Mul(2, context.Output.ElementCount)) };
}
