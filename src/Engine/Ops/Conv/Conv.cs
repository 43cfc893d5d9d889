using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// 2-D convolution. Inputs: X (N, Cin, H, W), W (Cout, Cin/group, kh, kw), optional B (Cout).
/// Attributes: kernel_shape, strides, pads (top, left, bottom, right), dilations, group.
/// MACC = kh*kw*(Cin/group)*Hout*Wout*Cout per image; bias adds are a secondary term.
/// </summary>
public sealed class Conv : OpKind<ConvAttributes>
{
    public const string OpType = "Conv";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ConvKernel();

    protected override ConvAttributes Parse(AttributeReader attributes) =>
        new(SpatialGeometry.Parse(attributes), attributes.Int("group", 1), attributes.Flag("xnor"));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var w = context.Input(1);
        var (g, group, _) = AttributesOf(context.Node);
        if (group <= 0 || x.C % group != 0 || w[0] % group != 0)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"groups={group} must divide the input channels ({x.C}) and the filters ({w[0]}).");
        }

        if (w.Rank != 4 || w[1] != x.C / group)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"weights {w} do not fit an input of {x.C} channels in {group} group(s).");
        }

        g.RequireKernelOf(context, w);
        PerChannel.RequireCount(context, 2, "bias", w[0], "filters");

        return [context.Positive(Shape.Nchw(x.N, w[0], g.OutH(x.H), g.OutW(x.W)))];
    }

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var (g, group, _) = AttributesOf(context.Node);
        var reduction = Checked.Mul(g.KernelArea, x.C / group);
        var outputs = y.ElementCount;
        var macc = Checked.Mul(reduction, outputs);
        return new OpCost
        {
            Macc = macc,
            MaccOutputs = outputs,
            NaiveInputReads = macc,
            Flops = new FlopTerms(Bias: context.HasInput(2) ? outputs : 0),
        };
    }
}

/// <summary>
/// Attributes of <see cref="Conv"/> and <see cref="ConvTranspose"/>: the window, the group count
/// (checked against the channels by the shape rule) and darknet's <c>xnor</c> (binary weights and inputs).
/// </summary>
public sealed record ConvAttributes(SpatialGeometry Window, long Group, bool Xnor);
