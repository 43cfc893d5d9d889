using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Pads every axis (ONNX Pad): attribute <c>pads</c> holds the begin amounts of all axes, then
/// the end amounts; <c>mode</c> is constant (with <c>value</c>, default 0), reflect or edge.
/// Data movement only.
/// </summary>
public sealed class Pad : OpKind<PadAttributes>
{
    public const string OpType = "Pad";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new PadKernel();

    protected override PadAttributes Parse(AttributeReader attributes) =>
        new(attributes.Ints("pads"), attributes.String("mode", "constant"), attributes.Float("value", 0));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var pads = AttributesOf(context.Node).Pads;
        if (pads.Length != 2 * x.Rank)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"{pads.Length} pad amounts for {x} (rank {x.Rank}); give a begin and an end for every axis.");
        }

        var dims = new long[x.Rank];
        for (var i = 0; i < x.Rank; i++)
        {
            dims[i] = Checked.Add(Checked.Add(x[i], pads[i]), pads[i + x.Rank]);
        }

        return [context.Positive(new Shape(dims))];
    }

    public override OpCost Cost(OpContext context) => OpCost.Zero;
}

/// <summary>Attributes of <see cref="Pad"/>: begin amounts for every axis then end amounts (ONNX order), the mode (constant, edge, reflect) and the constant.</summary>
public sealed record PadAttributes(long[] Pads, string Mode, double Value);
