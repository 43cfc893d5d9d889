using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Element-wise product with numpy broadcasting. Darknet [sam] multiplies equal shapes;
/// [scale_channels] multiplies a feature map by a (N, C, 1, 1) scale (or (N, 1, H, W) with
/// scale_wh), which is the same product broadcast over the missing axes.
/// </summary>
internal sealed class MulKernel : Kernel
{
    public override string OpType => "Mul";

    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var a = context.Input(0);
        var b = context.Input(1);
        var y = context.Output;
        if (a.Shape.Equals(y.Shape) && b.Shape.Equals(y.Shape))
        {
            var left = a.Data;
            var right = b.Data;
            var dst = y.Data;
            ParallelWork.For(context, dst.Length, 1 << 16, (start, end) =>
            {
                for (var i = (int)start; i < end; i++)
                {
                    dst[i] = left[i] * right[i];
                }
            });
            return;
        }

        var rank = y.Shape.Rank;
        var strideA = Broadcasting.Strides(a.Shape, y.Shape);
        var strideB = Broadcasting.Strides(b.Shape, y.Shape);
        var dims = y.Shape.Dims.Select(d => checked((int)d)).ToArray();
        var index = new int[rank];
        int offsetA = 0, offsetB = 0;
        for (var i = 0; i < y.Data.Length; i++)
        {
            y.Data[i] = a.Data[offsetA] * b.Data[offsetB];

            // Odometer step over the output index, moving each operand's offset along.
            for (var axis = rank - 1; axis >= 0; axis--)
            {
                index[axis]++;
                offsetA += strideA[axis];
                offsetB += strideB[axis];
                if (index[axis] < dims[axis])
                {
                    break;
                }

                offsetA -= strideA[axis] * dims[axis];
                offsetB -= strideB[axis] * dims[axis];
                index[axis] = 0;
            }
        }
    }
}
