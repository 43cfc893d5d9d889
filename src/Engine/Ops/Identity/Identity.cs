using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Passes its input through untouched at inference: Dropout, Darknet [cost] and [empty]. Readers
/// mark these nodes in place; they cost nothing and move no memory. RemoveDropout deletes them.
/// </summary>
public sealed class Identity : OpKind
{
    public Identity(string name) => Name = name;

    public override string Name { get; }

    internal override Kernel Kernel { get; } = new PassThroughKernel();

    protected override Shape[] Infer(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context) => new() { NoMemoryTraffic = true };
}
