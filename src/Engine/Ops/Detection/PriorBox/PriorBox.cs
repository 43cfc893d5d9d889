using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's PriorBox: the default boxes of a feature map. Inputs: the feature map (N, C, H, W) and the
/// image (only their shapes are read). Boxes per position: the aspect ratios {1} ∪ <c>aspect_ratios</c>
/// (near-duplicates within 1e-6 dropped, each new ratio r also adding 1/r when <c>flip</c>) times the
/// number of <c>min_sizes</c>, plus one per <c>max_sizes</c> entry. Output (1, 2, H*W*boxes*4): the
/// box corners and their variances, the same for every image. A constant: no arithmetic counted.
/// </summary>
public sealed class PriorBox : OpKind<PriorBoxAttributes>
{
    public const string OpType = "PriorBox";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new PriorBoxKernel();

    public static long PriorsPerPosition(double[] aspectRatios, bool flip, int minSizes, int maxSizes)
    {
        var ratios = new List<double> { 1.0 };
        foreach (var r in aspectRatios)
        {
            if (ratios.Any(existing => Math.Abs(r - existing) < 1e-6))
            {
                continue;
            }

            ratios.Add(r);
            if (flip)
            {
                ratios.Add(1.0 / r);
            }
        }

        return (ratios.Count * (long)minSizes) + maxSizes;
    }

    protected override PriorBoxAttributes Parse(AttributeReader attributes)
    {
        var minSizes = attributes.Floats("min_sizes", []);
        var maxSizes = attributes.Floats("max_sizes", []);
        if (minSizes.Length == 0 || (maxSizes.Length > 0 && maxSizes.Length != minSizes.Length))
        {
            throw attributes.OutOfRange($"needs at least one min_size and, when max_size is given, as many max_size as min_size ({minSizes.Length} min, {maxSizes.Length} max).");
        }

        return new PriorBoxAttributes(
            minSizes,
            maxSizes,
            attributes.Floats("aspect_ratios", []),
            attributes.Flag("flip", fallback: true),
            attributes.Flag("clip"),
            attributes.Float("offset", 0.5),
            attributes.Floats("variances", [0.1]),
            attributes.Has("steps") ? attributes.Floats("steps") : null);
    }

    protected override Shape[] Infer(OpContext context)
    {
        var feature = context.Image(0);
        context.Image(1);
        var a = AttributesOf(context.Node);
        var priors = PriorsPerPosition(a.AspectRatios, a.Flip, a.MinSizes.Length, a.MaxSizes.Length);
        return [new Shape(1, 2, Checked.Mul(Checked.Mul(feature.H, feature.W), priors, 4))];
    }

    // Only the input shapes are read, never their values.
    public override OpCost Cost(OpContext context) => new() { NaiveInputReads = 0, IdealInputReads = 0 };
}

/// <summary>
/// Attributes of <see cref="PriorBox"/> (Caffe SSD's PriorBoxParameter): box sizes, aspect ratios
/// (with their inverses when flipped), clipping to the image, the centre offset, the variances
/// written beside the boxes, and the step between positions (null: image size / feature size).
/// </summary>
public sealed record PriorBoxAttributes(double[] MinSizes, double[] MaxSizes, double[] AspectRatios, bool Flip, bool Clip, double Offset, double[] Variances, double[]? Steps);
