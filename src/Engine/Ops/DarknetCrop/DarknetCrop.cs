using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [crop] at inference: the centred crop_height x crop_width window, rescaled from
/// [0,1] to [-1,1] (<c>2x - 1</c>) unless <c>noadjust=1</c>. Cost: 2 FLOPs per element when adjusting.
/// </summary>
public sealed class DarknetCrop : OpKind<DarknetCropAttributes>
{
    public const string OpType = "DarknetCrop";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new DarknetCropKernel();

    protected override DarknetCropAttributes Parse(AttributeReader attributes) =>
        new(attributes.Int("crop_height"), attributes.Int("crop_width"), attributes.Flag("noadjust"));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var (h, w, _) = AttributesOf(context.Node);
        return h <= 0 || w <= 0 || h > x.H || w > x.W
            ? throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"crop {w}x{h} must be positive and fit the {x.W}x{x.H} input.")
            : [Shape.Nchw(x.N, x.C, h, w)];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Elementwise: AttributesOf(context.Node).NoAdjust ? 0 : Checked.Mul(2, context.Output.ElementCount)) };
}

/// <summary>Attributes of <see cref="DarknetCrop"/>: the crop's height and width and darknet's <c>noadjust</c> (keep values in [0, 1] rather than map them to [-1, 1]).</summary>
public sealed record DarknetCropAttributes(long CropHeight, long CropWidth, bool NoAdjust);
