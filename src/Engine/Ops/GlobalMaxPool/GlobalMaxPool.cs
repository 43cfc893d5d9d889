using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>Maximum over H and W (Caffe MAX pooling with global_pooling). Output (N, C, 1, 1); one compare per input element.</summary>
public sealed class GlobalMaxPool : OpKind
{
    public const string OpType = "GlobalMaxPool";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new GlobalMaxPoolKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        return [Shape.Nchw(x.N, x.C, 1, 1)];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Pooling: context.Input(0).ElementCount) };
}
