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
public sealed class Shortcut : OpKind
{
    public override string Name => "Shortcut";

    internal override Kernel Kernel { get; } = new ShortcutKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var fromCount = context.Attributes.Int("from_count");
        for (var i = 1; i <= fromCount; i++)
        {
            context.Image(i);
        }

        return [context.Image(0)];
    }

    public override OpCost Cost(OpContext context)
    {
        var fromCount = context.Attributes.Int("from_count");
        var weighted = context.InputCount > fromCount + 1 ? 2 : 1;
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(context.Output.ElementCount, fromCount, weighted)) };
    }
}
