using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Shared rule of Darknet's detection heads ([yolo], [Gaussian_yolo], [region], [detection]):
/// the output has the input's shape, and the input must carry exactly the channels the head
/// decodes (darknet refuses the model otherwise: "filters= ... doesn't correspond to classes=").
/// No MACC; the activations the head applies are a secondary term.
/// </summary>
public abstract class DetectionHead<TAttributes> : OpKind<TAttributes>
    where TAttributes : class
{
    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        var expected = ExpectedElementsPerItem(attributes, x);
        if (x.ElementsPerItem != expected)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch,
                $"receives {x.ElementsPerItem} values per image ({x}) but decodes {expected}: {Explain(attributes)}");
        }

        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Activation: Checked.Mul(4, LogisticElements(AttributesOf(context.Node), context.Input(0)))) };

    protected abstract long ExpectedElementsPerItem(TAttributes attributes, Shape input);

    protected abstract string Explain(TAttributes attributes);

    /// <summary>Elements passed through a logistic at inference.</summary>
    protected abstract long LogisticElements(TAttributes attributes, Shape input);

    /// <summary>Positions of the grid: H x W of an image input, 1 for a flat one.</summary>
    internal static long SpatialSize(Shape x) => x.Rank == 4 ? Checked.Mul(x.H, x.W) : 1;
}
