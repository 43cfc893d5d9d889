using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Local response normalisation across <c>size</c> neighbouring channels. Cost per element:
/// size squares and adds (2*size), then scale, add, pow and divide (4).
/// </summary>
public sealed class Lrn : OpKind
{
    public override string Name => "LRN";

    internal override Kernel Kernel { get; } = new LrnKernel();

    protected override Shape[] Infer(OpContext context) => [context.Image(0)];

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul((2 * context.Attributes.Int("size")) + 4, context.Output.ElementCount)) };
}
