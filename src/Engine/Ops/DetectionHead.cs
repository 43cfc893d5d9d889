using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Shared rule of Darknet's detection heads ([yolo], [Gaussian_yolo], [region], [detection]):
/// the output has the input's shape, and the input must carry exactly the channels the head
/// decodes (darknet refuses the model otherwise: "filters= ... doesn't correspond to classes=").
/// No MACC; the activations the head applies are a secondary term.
/// </summary>
public abstract class DetectionHead : OpKind
{
    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var expected = ExpectedElementsPerItem(context, x);
        if (x.ElementsPerItem != expected)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch,
                $"receives {x.ElementsPerItem} values per image ({x}) but decodes {expected}: {Explain(context, x)}");
        }

        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Activation: Checked.Mul(4, LogisticElements(context))) };

    protected abstract long ExpectedElementsPerItem(OpContext context, Shape input);

    protected abstract string Explain(OpContext context, Shape input);

    /// <summary>Elements passed through a logistic at inference.</summary>
    protected abstract long LogisticElements(OpContext context);
}
