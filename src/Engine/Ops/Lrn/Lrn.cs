using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Local response normalisation across <c>size</c> neighbouring channels. Cost per element:
/// size squares and adds (2*size), then scale, add, pow and divide (4).
/// </summary>
public sealed class Lrn : OpKind<LrnAttributes>
{
    public const string OpType = "LRN";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new LrnKernel();

    /// <remarks>Caffe's LRN (a <c>region</c> is given) defaults alpha to 1, darknet's [normalization] to 0.0001.</remarks>
    protected override LrnAttributes Parse(AttributeReader attributes)
    {
        bool? withinChannel = attributes.Has("region") ? attributes.String("region") == "within_channel" : null;
        return new LrnAttributes(
            attributes.Int("size", 5, min: 1),
            attributes.Float("alpha", withinChannel is null ? 0.0001 : 1),
            attributes.Float("beta", 0.75),
            attributes.Float("kappa", 1),
            withinChannel);
    }

    protected override Shape[] Infer(OpContext context) => [context.Image(0)];

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul((2 * AttributesOf(context.Node).Size) + 4, context.Output.ElementCount)) };
}

/// <summary>
/// Attributes of <see cref="Lrn"/>: window size, alpha, beta, kappa (Caffe's k), and Caffe's region
/// (<c>true</c>: WITHIN_CHANNEL, <c>false</c>: ACROSS_CHANNELS) or null for darknet's [normalization].
/// </summary>
public sealed record LrnAttributes(long Size, double Alpha, double Beta, double Kappa, bool? CaffeWithinChannel);
