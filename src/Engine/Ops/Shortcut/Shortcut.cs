using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [shortcut]: <c>y = x + Σ from_i</c> (optionally weighted per layer or per channel),
/// output shaped like x. Inputs: x, the <c>from_count</c> added layers, then the optional weights.
/// Mismatched shapes are allowed as in darknet, where the forks differ; attribute
/// <c>size_mismatch</c> says whose rule applies: "strided" (pjreddie, the default: the overlapping
/// channels are added and a larger spatial size is sampled with a stride) or "flat" (AlexeyAB: the
/// first elements of each item are added in flat order). Cost: one add per output element and added layer (the
/// term AlexeyAB's "Total BFLOPS" includes), plus one multiply per element and layer when weighted.
/// </summary>
public sealed class Shortcut : OpKind<ShortcutAttributes>
{
    public const string OpType = "Shortcut";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ShortcutKernel();

    protected override ShortcutAttributes Parse(AttributeReader attributes)
    {
        var normalization = attributes.String("weights_normalization", "none");
        return normalization is "none" or "relu" or "softmax"
            ? new ShortcutAttributes(attributes.Int("from_count", 1, min: 0), attributes.String("size_mismatch", "strided") == "flat", normalization)
            : throw attributes.OutOfRange($"weights_normalization={normalization} is not one of none, relu, softmax.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var fromCount = AttributesOf(context.Node).FromCount;
        for (var i = 1; i <= fromCount; i++)
        {
            context.Image(i);
        }

        return [context.Image(0)];
    }

    public override OpCost Cost(OpContext context)
    {
        var attributes = AttributesOf(context.Node);
        var fromCount = attributes.FromCount;
        var weighted = attributes.IsWeighted(context.InputCount) ? 2 : 1;
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(context.Output.ElementCount, fromCount, weighted)) };
    }
}

/// <summary>
/// Attributes of <see cref="Shortcut"/>: how many layers are added to input 0 (inputs 1…n; a further
/// input holds AlexeyAB's per-layer weights), whether inputs of another size are added flat
/// (AlexeyAB's multilayer form) rather than strided (pjreddie's), and how the weights are normalised.
/// </summary>
public sealed record ShortcutAttributes(long FromCount, bool FlatSizeMismatch, string WeightsNormalization)
{
    /// <summary>True when the node has the weights input after its <see cref="FromCount"/> added layers.</summary>
    public bool IsWeighted(int inputCount) => inputCount > FromCount + 1;
}
