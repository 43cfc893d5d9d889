using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>Shape and cost rules shared by <see cref="MaxPool"/> and <see cref="AveragePool"/>.</summary>
internal static class Pooling
{
    public static Shape OutputShape(OpContext context)
    {
        var x = context.Image(0);
        var depthChannels = context.Attributes.Int("depth_channels", 0);
        if (depthChannels > 0)
        {
            return context.Positive(Shape.Nchw(x.N, depthChannels, x.H, x.W));
        }

        var g = SpatialGeometry.From(context);
        return context.Positive(Shape.Nchw(x.N, x.C, g.OutH(x.H), g.OutW(x.W)));
    }

    /// <summary>Every output element looks at its whole window: <c>Hout*Wout*C*kh*kw</c> reads and compares.</summary>
    public static OpCost WindowCost(OpContext context)
    {
        var y = context.Output;
        var x = context.Input(0);
        var window = context.Attributes.Int("depth_channels", 0) > 0
            ? x.C / Math.Max(1, y.C)
            : SpatialGeometry.From(context).KernelArea;
        var work = Checked.Mul(window, y.ElementCount);
        return new OpCost { NaiveInputReads = work, Flops = new FlopTerms(Pooling: work) };
    }
}
