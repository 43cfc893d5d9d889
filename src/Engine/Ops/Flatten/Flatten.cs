using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Merges axes <c>axis</c>..<c>end_axis</c> (negative counts from the end) into one (Caffe Flatten,
/// default 1..-1: (N, C, H, W) → (N, C*H*W)). A view: Caffe shares the buffer, so it moves no memory.
/// </summary>
public sealed class Flatten : OpKind<FlattenAttributes>
{
    public const string OpType = "Flatten";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ViewKernel();

    protected override FlattenAttributes Parse(AttributeReader attributes) => new(attributes.Int("axis", 1), attributes.Int("end_axis", -1));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        var start = Axis(context, x, attributes.Axis);
        var end = Axis(context, x, attributes.EndAxis);
        if (end < start)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"end_axis ({end}) comes before axis ({start}).");
        }

        var dims = new List<long>();
        dims.AddRange(x.Dims.Take(start));
        dims.Add(Checked.Product(x.Dims.Skip(start).Take(end - start + 1).ToArray()));
        dims.AddRange(x.Dims.Skip(end + 1));
        return [new Shape([.. dims])];
    }

    public override OpCost Cost(OpContext context) => new() { NoMemoryTraffic = true };

    private static int Axis(OpContext context, Shape x, long axis)
    {
        var a = axis < 0 ? axis + x.Rank : axis;
        return a >= 0 && a < x.Rank ? (int)a : throw context.Error(DiagnosticCodes.ShapeMismatch, $"axis {axis} does not exist in {x}.");
    }
}

/// <summary>Attributes of <see cref="Flatten"/> (Caffe Flatten): the first and last axis merged (negative counts from the end).</summary>
public sealed record FlattenAttributes(long Axis, long EndAxis);
