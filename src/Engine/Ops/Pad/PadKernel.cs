using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX Pad: the output index <c>o</c> on an axis padded by <c>begin</c> reads input position
/// <c>o - begin</c> when it lies inside; outside, <c>mode</c> decides: <c>constant</c> writes
/// <c>value</c>, <c>edge</c> repeats the nearest border element, <c>reflect</c> mirrors about the
/// border element without repeating it (numpy's "reflect": for size 4, positions -2, -1 read 2, 1;
/// reflections continue with period 2*(size-1), and a size-1 axis repeats its element). The source
/// position of every output index is tabulated per axis, then the output is walked row by row.
/// </summary>
internal sealed class PadKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var rank = x.Shape.Rank;
        var attributes = context.AttributesAs<PadAttributes>();
        var pads = attributes.Pads;
        var mode = attributes.Mode;
        var value = (float)attributes.Value;
        if (mode is not ("constant" or "edge" or "reflect"))
        {
            throw context.Unsupported($"pad mode '{mode}'");
        }

        if (rank == 0)
        {
            y.Data[0] = x.Data[0];
            return;
        }

        // sources[axis][o]: the input position output position o reads, or -1 for the constant.
        var sources = new int[rank][];
        for (var axis = 0; axis < rank; axis++)
        {
            var size = checked((int)x.Shape[axis]);
            var begin = checked((int)pads[axis]);
            var length = checked((int)y.Shape[axis]);
            if (length != size + begin + pads[axis + rank])
            {
                throw context.Error($"axis {axis} of the output is {length} long, not {size} + {begin} + {pads[axis + rank]}.");
            }

            sources[axis] = new int[length];
            for (var o = 0; o < length; o++)
            {
                var i = o - begin;
                sources[axis][o] = i >= 0 && i < size ? i : mode switch
                {
                    "constant" => -1,
                    "edge" => Math.Clamp(i, 0, size - 1),
                    _ => Reflect(i, size),
                };
            }
        }

        var inStrides = new int[rank];
        var stride = 1;
        for (var axis = rank - 1; axis >= 0; axis--)
        {
            inStrides[axis] = stride;
            stride = checked(stride * (int)x.Shape[axis]);
        }

        var src = x.Data;
        var dst = y.Data;
        var inner = sources[^1].Length;
        var last = sources[^1];
        var rows = dst.Length / inner;
        var index = new int[rank];
        for (var r = 0; r < rows; r++)
        {
            var row = dst.AsSpan(r * inner, inner);
            var source = 0;
            var outside = false;
            for (var axis = 0; axis < rank - 1; axis++)
            {
                var p = sources[axis][index[axis]];
                outside |= p < 0;
                source += p * inStrides[axis];
            }

            if (outside)
            {
                row.Fill(value);
            }
            else
            {
                for (var j = 0; j < inner; j++)
                {
                    row[j] = last[j] < 0 ? value : src[source + last[j]];
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

    /// <summary>numpy's "reflect" position for <paramref name="i"/> outside [0, size): mirrored about the border elements.</summary>
    private static int Reflect(int i, int size)
    {
        if (size == 1)
        {
            return 0;
        }

        var period = 2 * (size - 1);
        var p = ((i % period) + period) % period;
        return p < size ? p : period - p;
    }
}
