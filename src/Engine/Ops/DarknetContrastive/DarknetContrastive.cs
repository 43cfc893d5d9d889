using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>Darknet [contrastive]: a training-only loss head; at inference it passes its input on.</summary>
public sealed class DarknetContrastive : OpKind
{
    public const string OpType = "DarknetContrastive";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new PassThroughKernel();

    protected override Shape[] Infer(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context) => new() { NoMemoryTraffic = true };
}
