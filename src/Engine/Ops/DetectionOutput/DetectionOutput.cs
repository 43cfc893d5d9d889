using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's DetectionOutput: decodes box offsets against the priors, applies NMS per class and keeps the
/// best detections. Inputs: loc (N, P*4 — or P*classes*4 without <c>share_location</c>), conf
/// (N, P*classes), priors (1, 2, P*4). Output (1, 1, D, 7) rows of
/// (image, label, score, xmin, ymin, xmax, ymax); D depends on the data, so the shape states the
/// upper bound N * <c>keep_top_k</c> (or N * P * classes when keep_top_k is -1). No MACC; the decode
/// and NMS work depends on the data and is not counted.
/// </summary>
public sealed class DetectionOutput : OpKind
{
    public override string Name => "DetectionOutput";

    internal override Kernel Kernel { get; } = new DetectionOutputKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var loc = context.Input(0);
        var conf = context.Input(1);
        var priors = context.Input(2);
        var classes = context.Attributes.Int("num_classes");
        var shareLocation = context.Attributes.Int("share_location", 1) != 0;
        if (classes <= 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, "num_classes must be positive.");
        }

        if (priors.Rank != 3 || priors[1] != 2 || priors[2] % 4 != 0)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"priors {priors} are not PriorBox output (1 x 2 x boxes*4).");
        }

        var boxes = priors[2] / 4;
        var locPerItem = Checked.Mul(boxes, shareLocation ? 1 : classes, 4);
        var confPerItem = Checked.Mul(boxes, classes);
        if (loc.ElementsPerItem != locPerItem || conf.ElementsPerItem != confPerItem || loc[0] != conf[0])
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch,
                $"{boxes} prior boxes and {classes} classes need loc {locPerItem} and conf {confPerItem} values per image, but loc is {loc} and conf is {conf}.");
        }

        var keep = context.Attributes.Int("keep_top_k", -1);
        // No image yields more detections than boxes x classes, whatever keep_top_k allows.
        var perImage = keep > 0 ? Math.Min(keep, confPerItem) : confPerItem;
        return [new Shape(1, 1, Checked.Mul(loc[0], perImage), 7)];
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}
