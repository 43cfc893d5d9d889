using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// One kind of operation: its shape rule and its cost. One folder per op (the op and its kernel); registered once, in
/// <see cref="OpRegistry"/>. Costs follow docs/metrics.md: <see cref="OpCost.Macc"/> counts only
/// conv / deconv / fully-connected multiply-accumulates, everything else is a labelled secondary term.
/// </summary>
public abstract class OpKind
{
    /// <summary>Key used in <see cref="Node.OpType"/>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Output shapes from input shapes, by the op's rule (<see cref="Infer"/>), each checked to have an
    /// element count that fits 64 bits (NM0022): every reader and every re-run of shape inference
    /// goes through here, so no later size computation (cost, memory, executor buffers) can wrap.
    /// Bad combinations throw a coded error at the node's location.
    /// </summary>
    public Shape[] InferShapes(OpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var outputs = Infer(context);
        using var scope = Checked.At(context.Node.Origin.Location);
        foreach (var output in outputs)
        {
            _ = output.ElementCount;
        }

        return outputs;
    }

    /// <summary>The op's shape rule, including the checks of its parameters (NM0024) and attributes (NM0025).</summary>
    protected abstract Shape[] Infer(OpContext context);

    /// <summary>Cost of the node for the already inferred shapes.</summary>
    public abstract OpCost Cost(OpContext context);

    /// <summary>How the reference executor computes the op; it lives beside the op, in the op's folder.</summary>
    internal abstract Kernel Kernel { get; }
}

/// <summary>What a shape rule or cost formula may look at: the node and the shapes around it.</summary>
public sealed class OpContext(Node node, IReadOnlyList<Shape?> inputShapes, IReadOnlyList<Shape>? outputShapes = null)
{
    public Node Node { get; } = node;

    public IReadOnlyList<Shape?> InputShapes { get; } = inputShapes;

    public IReadOnlyList<Shape> OutputShapes => outputShapes ?? throw new InvalidOperationException("Output shapes are not inferred yet.");

    public Shape Output => OutputShapes[0];

    public int InputCount => InputShapes.Count;

    public bool HasInput(int index) => index < InputShapes.Count && InputShapes[index] is not null;

    public Shape Input(int index) =>
        index < InputShapes.Count && InputShapes[index] is { } shape
            ? shape
            : throw Error(DiagnosticCodes.ShapeMismatch, $"{Node.Origin.Kind} '{Node.Origin.Name}' is missing input {index}.");

    public NeuralException Error(DiagnosticDescriptor descriptor, string message) =>
        descriptor.Exception(Node.Origin.Location, $"layer {Node.Origin.Index} [{Node.Origin.Kind}]: {message}");

    /// <summary>Requires an NCHW input; image-only layers after a flat one are a model error.</summary>
    public Shape Image(int index)
    {
        var shape = Input(index);
        return shape.Rank == 4
            ? shape
            : throw Error(DiagnosticCodes.ShapeMismatch, $"expects an image (N x C x H x W) but receives {shape}.");
    }

    public Shape Positive(Shape shape) =>
        shape.IsPositive ? shape : throw Error(DiagnosticCodes.ShapeNotPositive, $"produces the empty or negative shape {shape}.");
}
