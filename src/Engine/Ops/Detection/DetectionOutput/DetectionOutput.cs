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
public sealed class DetectionOutput : OpKind<DetectionOutputAttributes>
{
    public const string OpType = "DetectionOutput";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new DetectionOutputKernel();

    protected override DetectionOutputAttributes Parse(AttributeReader attributes)
    {
        var classes = attributes.Int("num_classes");
        return classes > 0
            ? new DetectionOutputAttributes(
                classes,
                attributes.Flag("share_location", fallback: true),
                attributes.Int("background_label_id", 0),
                attributes.Int("keep_top_k", -1),
                attributes.Int("top_k", -1),
                attributes.Float("nms_threshold", 0.3),
                attributes.Float("confidence_threshold", 0),
                attributes.String("code_type", "CenterSize"),
                attributes.Flag("variance_encoded_in_target"))
            : throw attributes.OutOfRange("num_classes must be positive.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var loc = context.Input(0);
        var conf = context.Input(1);
        var priors = context.Input(2);
        var attributes = AttributesOf(context.Node);
        var (classes, shareLocation) = (attributes.NumClasses, attributes.ShareLocation);

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

        var keep = attributes.KeepTopK;
        // No image yields more detections than boxes x classes, whatever keep_top_k allows.
        var perImage = keep > 0 ? Math.Min(keep, confPerItem) : confPerItem;
        return [new Shape(1, 1, Checked.Mul(loc[0], perImage), 7)];
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}

/// <summary>
/// Attributes of <see cref="DetectionOutput"/> (Caffe SSD's DetectionOutputParameter): classes (with
/// the background), one box per prior for all classes or one per class, the background label, the
/// detections kept per image and per class before NMS, NMS and confidence thresholds, the box
/// encoding and whether the variances are already in the offsets.
/// </summary>
public sealed record DetectionOutputAttributes(
    long NumClasses,
    bool ShareLocation,
    long BackgroundLabelId,
    long KeepTopK,
    long TopK,
    double NmsThreshold,
    double ConfidenceThreshold,
    string CodeType,
    bool VarianceEncodedInTarget);
