using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Transposed convolution (Darknet [deconvolutional]). Inputs: X (N, Cin, H, W), W (Cin, Cout/group, kh, kw), optional B.
/// Output: <c>stride*(in-1) + dilation*(k-1) + 1 - pad_begin - pad_end</c>.
/// MACC = kh*kw*(Cout/group)*Hin*Win*Cin per image.
/// </summary>
public sealed class ConvTranspose : OpKind<ConvAttributes>
{
    public const string OpType = "ConvTranspose";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ConvTransposeKernel();

    protected override ConvAttributes Parse(AttributeReader attributes) =>
        new(SpatialGeometry.Parse(attributes), attributes.Int("group", 1), Xnor: false);

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var w = context.Input(1);
        var (g, group, _) = AttributesOf(context.Node);
        if (w.Rank != 4 || w[0] != x.C || group <= 0 || x.C % group != 0)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"weights {w} do not fit an input of {x.C} channels.");
        }

        g.RequireKernelOf(context, w);
        var filters = Checked.Mul(w[1], group);
        PerChannel.RequireCount(context, 2, "bias", filters, "filters");
        return [context.Positive(Shape.Nchw(x.N, filters, g.TransposedOutH(x.H), g.TransposedOutW(x.W)))];
    }

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1);
        var y = context.Output;
        var macc = Checked.Mul(Checked.Mul(w[2], w[3]), w[1], x.ElementCount);
        return new OpCost
        {
            Macc = macc,
            MaccOutputs = y.ElementCount,
            NaiveInputReads = macc,
            Flops = new FlopTerms(Bias: context.HasInput(2) ? y.ElementCount : 0),
        };
    }
}
