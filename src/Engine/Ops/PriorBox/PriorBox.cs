using NeuralBuild.Engine.Diagnostics;
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
public sealed class PriorBox : OpKind
{
    public override string Name => "PriorBox";

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

    protected override Shape[] Infer(OpContext context)
    {
        var feature = context.Image(0);
        context.Image(1);
        var a = context.Attributes;
        var minSizes = a.Has("min_sizes") ? a.Floats("min_sizes") : [];
        var maxSizes = a.Has("max_sizes") ? a.Floats("max_sizes") : [];
        if (minSizes.Length == 0 || (maxSizes.Length > 0 && maxSizes.Length != minSizes.Length))
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"needs at least one min_size and, when max_size is given, as many max_size as min_size ({minSizes.Length} min, {maxSizes.Length} max).");
        }

        var ratios = a.Has("aspect_ratios") ? a.Floats("aspect_ratios") : [];
        var priors = PriorsPerPosition(ratios, a.Int("flip", 1) != 0, minSizes.Length, maxSizes.Length);
        return [new Shape(1, 2, Checked.Mul(Checked.Mul(feature.H, feature.W), priors, 4))];
    }

    // Only the input shapes are read, never their values.
    public override OpCost Cost(OpContext context) => new() { NaiveInputReads = 0, IdealInputReads = 0 };
}
