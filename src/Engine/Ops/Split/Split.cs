using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Hands its input to several consumers (Caffe Split): every output is the input. Caffe shares the
/// buffer, so readers mark the node in place and it moves no memory.
/// </summary>
public sealed class Split : OpKind
{
    public const string OpType = "Split";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new SplitKernel();

    protected override Shape[] Infer(OpContext context) =>
        [.. Enumerable.Repeat(context.Input(0), Math.Max(1, context.Node.Outputs.Count))];

    public override OpCost Cost(OpContext context) => new() { NoMemoryTraffic = true };
}
