using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Takes <c>starts[i]:ends[i]:steps[i]</c> along <c>axes[i]</c> (ONNX Slice, with its clamping:
/// negative positions count from the end, out-of-range ones are clamped). The one canonical slice:
/// Caffe's Slice becomes one per top (<c>[point i, point i+1)</c> along its axis). Pure data
/// movement: the output is written and as many input elements are read.
/// </summary>
public sealed class StridedSlice : OpKind<StridedSliceAttributes>
{
    public const string OpType = "StridedSlice";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new StridedSliceKernel();

    protected override StridedSliceAttributes Parse(AttributeReader attributes)
    {
        var starts = attributes.Ints("starts");
        return new StridedSliceAttributes(
            starts,
            attributes.Ints("ends"),
            attributes.Ints("axes", [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)]),
            attributes.Ints("steps", [.. Enumerable.Repeat(1L, starts.Length)]));
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var (starts, ends, axes, steps) = AttributesOf(context.Node);
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"starts, ends, axes and steps have {starts.Length}, {ends.Length}, {axes.Length} and {steps.Length} entries; they must agree.");
        }

        var dims = x.Dims.ToArray();
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = axes[i] < 0 ? axes[i] + x.Rank : axes[i];
            if (axis < 0 || axis >= x.Rank || steps[i] == 0)
            {
                throw context.Error(DiagnosticCodes.ShapeMismatch, $"slice {i} names axis {axes[i]} with step {steps[i]}, which does not fit {x}.");
            }

            dims[axis] = Length(x[(int)axis], starts[i], ends[i], steps[i]);
        }

        return [context.Positive(new Shape(dims))];
    }

    public override OpCost Cost(OpContext context) =>
        new() { NaiveInputReads = context.Output.ElementCount, IdealInputReads = context.Output.ElementCount };

    /// <summary>Number of positions start, start+step, … before end, after ONNX's clamping.</summary>
    public static long Length(long size, long start, long end, long step)
    {
        static long Resolve(long position, long size) => position < 0 ? position + size : position;
        var s = Resolve(start, size);
        var e = Resolve(end, size);
        if (step > 0)
        {
            s = Math.Clamp(s, 0, size);
            e = Math.Clamp(e, 0, size);
            return e > s ? ((e - s - 1) / step) + 1 : 0;
        }

        s = Math.Clamp(s, -1, size - 1);
        e = Math.Clamp(e, -1, size - 1);
        return s > e ? ((s - e - 1) / -step) + 1 : 0;
    }
}

/// <summary>Attributes of <see cref="StridedSlice"/> (ONNX Slice): per sliced axis its start, end and step (numpy rules, clamped); axes default to 0…n-1, steps to 1.</summary>
public sealed record StridedSliceAttributes(long[] Starts, long[] Ends, long[] Axes, long[] Steps);
