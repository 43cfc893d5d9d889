using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Caffe Slice: cuts the input along <c>axis</c>; output i takes the next <c>shape_i[axis]</c>
/// entries of that axis (the shapes already hold the slice points).
/// </summary>
internal sealed class SliceKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var rank = x.Shape.Rank;
        var axisAttribute = context.AttributesAs<SliceAttributes>().Axis;
        var axis = checked((int)(axisAttribute < 0 ? axisAttribute + rank : axisAttribute));
        long outer = 1, inner = 1;
        for (var a = 0; a < axis; a++)
        {
            outer *= x.Shape[a];
        }

        for (var a = axis + 1; a < rank; a++)
        {
            inner *= x.Shape[a];
        }

        var length = checked((int)x.Shape[axis]);
        var src = x.Data;
        var offset = 0;
        foreach (var output in context.Outputs)
        {
            var count = checked((int)output.Shape[axis]);
            var block = checked((int)(count * inner));
            for (long o = 0; o < outer; o++)
            {
                src.AsSpan(checked((int)((((o * length) + offset) * inner))), block)
                   .CopyTo(output.Data.AsSpan(checked((int)(o * block)), block));
            }

            offset += count;
        }

        if (offset != length)
        {
            throw context.Error($"the slices cover {offset} of the {length} entries of axis {axis}.");
        }
    }
}
