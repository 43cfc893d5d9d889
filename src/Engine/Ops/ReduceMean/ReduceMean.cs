using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Mean over <c>axes</c> (all axes when absent; negative counts from the end); <c>keepdims</c> 1
/// keeps reduced axes as size 1 (ONNX ReduceMean). Cost: one add per input element, as
/// <see cref="GlobalAveragePool"/> (the final divide per output is negligible and not counted).
/// </summary>
public sealed class ReduceMean : OpKind<ReduceMeanAttributes>
{
    public const string OpType = "ReduceMean";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ReduceMeanKernel();

    protected override ReduceMeanAttributes Parse(AttributeReader attributes) =>
        new(attributes.Has("axes") ? attributes.Ints("axes") : null, attributes.Flag("keepdims", fallback: true));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        var axes = attributes.Axes ?? [.. Enumerable.Range(0, x.Rank).Select(i => (long)i)];
        var reduced = new HashSet<long>();
        foreach (var axis in axes)
        {
            var a = axis < 0 ? axis + x.Rank : axis;
            if (a < 0 || a >= x.Rank || !reduced.Add(a))
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"axis {axis} does not exist in {x} or is repeated.");
            }
        }

        var keep = attributes.KeepDims;
        var dims = new List<long>();
        for (var i = 0; i < x.Rank; i++)
        {
            if (!reduced.Contains(i))
            {
                dims.Add(x[i]);
            }
            else if (keep)
            {
                dims.Add(1);
            }
        }

        return [new Shape([.. dims])];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Pooling: context.Input(0).ElementCount) };
}

/// <summary>Attributes of <see cref="ReduceMean"/>: the axes to average over (null: all) and whether they stay as axes of length 1.</summary>
public sealed record ReduceMeanAttributes(long[]? Axes, bool KeepDims);
