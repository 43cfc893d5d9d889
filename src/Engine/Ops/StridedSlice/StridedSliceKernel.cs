using NeuralBuild.Engine.Execution;


namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX Slice: along each listed axis the output takes positions <c>start, start + step, …</c> before
/// <c>end</c>, after ONNX's resolution (negative positions count from the end; starts and ends are
/// clamped to [0, size] for a positive step and to [-1, size - 1] for a negative one, see
/// <see cref="Ops.StridedSlice.Length"/>); unlisted axes are kept whole. The output is walked in
/// row-major order, each output index mapping to <c>Σ (start_a + i_a * step_a) * stride_a</c> of the
/// input; a last axis taken whole with step 1 is copied as one contiguous run.
/// </summary>
internal sealed class StridedSliceKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var rank = x.Shape.Rank;
        var (starts, ends, axes, steps) = context.AttributesAs<StridedSliceAttributes>();

        // Per input axis: first position and step (whole axes: 0 and 1).
        var first = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = checked((int)(axes[i] < 0 ? axes[i] + rank : axes[i]));
            var size = x.Shape[axis];
            var s = starts[i] < 0 ? starts[i] + size : starts[i];
            first[axis] = steps[i] > 0 ? Math.Clamp(s, 0, size) : Math.Clamp(s, -1, size - 1);
            step[axis] = steps[i];
            if (Ops.StridedSlice.Length(size, starts[i], ends[i], steps[i]) != y.Shape[axis])
            {
                throw context.Error($"axis {axis} of the output is {y.Shape[axis]} long but slice {i} selects {Ops.StridedSlice.Length(size, starts[i], ends[i], steps[i])} positions.");
            }
        }

        if (y.Data.Length == 0)
        {
            return;
        }

        var inStrides = new long[rank];
        long stride = 1;
        for (var axis = rank - 1; axis >= 0; axis--)
        {
            inStrides[axis] = stride;
            stride *= x.Shape[axis];
        }

        var src = x.Data;
        var dst = y.Data;
        if (rank == 0)
        {
            dst[0] = src[0];
            return;
        }

        var inner = checked((int)y.Shape[-1]);
        var innerStep = step[^1];
        var contiguous = innerStep == 1;
        var rows = dst.Length / inner;
        var index = new long[rank];
        for (var r = 0; r < rows; r++)
        {
            long source = 0;
            for (var axis = 0; axis < rank; axis++)
            {
                source += (first[axis] + (index[axis] * step[axis])) * inStrides[axis];
            }

            var row = dst.AsSpan(r * inner, inner);
            if (contiguous)
            {
                src.AsSpan(checked((int)source), inner).CopyTo(row);
            }
            else
            {
                for (var j = 0; j < inner; j++)
                {
                    row[j] = src[source + (j * innerStep)];
                }
            }

            for (var axis = rank - 2; axis >= 0; axis--)
            {
                if (++index[axis] < y.Shape[axis])
                {
                    break;
                }

                index[axis] = 0;
            }
        }
    }
}
