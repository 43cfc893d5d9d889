using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>Mean over H and W (Darknet [avgpool]). Output (N, C, 1, 1); one add per input element.</summary>
public sealed class GlobalAveragePool : OpKind
{
    public const string OpType = "GlobalAveragePool";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new GlobalAveragePoolKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        return [Shape.Nchw(x.N, x.C, 1, 1)];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Pooling: context.Input(0).ElementCount) };
}
