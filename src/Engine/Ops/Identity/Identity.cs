using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Passes its input through untouched at inference: Dropout, Darknet [cost] and [empty]. Readers
/// mark these nodes in place; they cost nothing and move no memory. RemoveDropout deletes them.
/// </summary>
public sealed class Identity : OpKind<IdentityAttributes>
{
    public Identity(string name) => Name = name;

    public override string Name { get; }

    internal override Kernel Kernel { get; } = new PassThroughKernel();

    protected override IdentityAttributes Parse(AttributeReader attributes) => new(attributes.Has("to") ? attributes.Int("to") : null);

    protected override Shape[] Infer(OpContext context) => [context.Input(0)];

    public override OpCost Cost(OpContext context) => new() { NoMemoryTraffic = true };
}

/// <summary>Attributes of <see cref="Identity"/>: for an ONNX Cast read as an identity, the element type it casts to (its ONNX code); null otherwise.</summary>
public sealed record IdentityAttributes(long? CastTo)
{
    /// <summary>True for a Cast, whose readers receive another element type: removing it would change what they read.</summary>
    public bool ChangesElementType => CastTo is not null;
}
