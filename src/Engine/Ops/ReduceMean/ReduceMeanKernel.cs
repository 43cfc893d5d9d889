using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX ReduceMean: the mean over <c>axes</c> (all axes when absent) of every position of the kept
/// axes; <c>keepdims</c> only changes the output's shape, not the order of its values. The input is
/// walked once in row-major order, each element added in double to the sum of the output position
/// it belongs to (stride 0 along the reduced axes), and each sum divided by the number of terms: the
/// float32 result is the correctly rounded mean for any reduction length, where a float32 running
/// sum would drift over long axes.
/// </summary>
internal sealed class ReduceMeanKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var rank = x.Shape.Rank;
        var reduced = new bool[rank];
        if (context.AttributesAs<ReduceMeanAttributes>().Axes is { } axes)
        {
            foreach (var axis in axes)
            {
                reduced[checked((int)(axis < 0 ? axis + rank : axis))] = true;
            }
        }
        else
        {
            Array.Fill(reduced, true);
        }

        // Stride of each input axis in the output (0 when reduced).
        var outStrides = new long[rank];
        long stride = 1;
        long terms = 1;
        for (var axis = rank - 1; axis >= 0; axis--)
        {
            if (reduced[axis])
            {
                terms *= x.Shape[axis];
                continue;
            }

            outStrides[axis] = stride;
            stride *= x.Shape[axis];
        }

        if (stride != y.Data.Length)
        {
            throw context.Error($"the output {y.Shape} does not hold the {stride} kept positions of {x.Shape}.");
        }

        var sums = new double[y.Data.Length];
        var src = x.Data;
        var index = new long[rank];
        long at = 0;
        for (var i = 0; i < src.Length; i++)
        {
            sums[at] += src[i];
            for (var axis = rank - 1; axis >= 0; axis--)
            {
                index[axis]++;
                at += outStrides[axis];
                if (index[axis] < x.Shape[axis])
                {
                    break;
                }

                at -= outStrides[axis] * x.Shape[axis];
                index[axis] = 0;
            }
        }

        for (var i = 0; i < sums.Length; i++)
        {
            y.Data[i] = (float)(sums[i] / terms);
        }
    }
}
