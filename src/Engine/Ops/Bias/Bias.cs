using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Per-channel add <c>y = x + bias_c</c> (Caffe Bias with a learned bias). Inputs: X, bias (C).
/// Cost: 1 FLOP per element (normalisation column, as <see cref="Scale"/>).
/// </summary>
public sealed class Bias : OpKind
{
    public override string Name => "Bias";

    internal override Kernel Kernel { get; } = new BiasKernel();

    protected override Shape[] Infer(OpContext context) => [PerChannel.Require(context, 1, "bias")];

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: context.Output.ElementCount) };
}
