using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Takes <c>starts[i]:ends[i]:steps[i]</c> along <c>axes[i]</c> (ONNX Slice, with its clamping:
/// negative positions count from the end, out-of-range ones are clamped). Pure data movement:
/// the output is written and as many input elements are read.
/// </summary>
public sealed class StridedSlice : OpKind
{
    public override string Name => "StridedSlice";

    internal override Kernel Kernel { get; } = new StridedSliceKernel();

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var starts = context.Attributes.Ints("starts");
        var ends = context.Attributes.Ints("ends");
        var axes = context.Attributes.Ints("axes", [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)]);
        var steps = context.Attributes.Ints("steps", [.. Enumerable.Repeat(1L, starts.Length)]);
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
