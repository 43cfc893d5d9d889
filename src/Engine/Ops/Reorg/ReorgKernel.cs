using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [reorg] / [reorg3d]. Both call darknet's reorg_cpu(x, w, h, c, stride, forward, out),
/// which walks a (c, h, w) grid and pairs flat index <c>i + w*(j + h*k)</c> with index
/// <c>w2 + w*s*(h2 + h*s*c2)</c> of a (c/s², h*s, w*s) view, where c2 = k % (c/s²),
/// w2 = i*s + (k / (c/s²)) % s and h2 = j*s + (k / (c/s²)) / s; forward copies the first to the
/// second, backward the second to the first. The flavours differ in the grid they pass:
/// <list type="bullet">
/// <item>"reorg" (pjreddie [reorg], AlexeyAB reorg_old): the input's (C, H, W), backward for
/// space-to-depth, forward for reverse=1. This is not a plain space-to-depth: the output buffer is
/// the input read through the (C/s², H*s, W*s) view, which is what YOLOv2's weights were trained with.</item>
/// <item>"reorg3d" (AlexeyAB [reorg3d]): the output's (C*s², H/s, W/s), backward for space-to-depth,
/// forward for reverse=1: a true space-to-depth.</item>
/// </list>
/// pjreddie's <c>extra=N</c> copies the input item to the start of a flat output and leaves the N
/// extra values at zero.
/// </summary>
internal sealed class ReorgKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var attributes = context.AttributesAs<ReorgAttributes>();
        var stride = checked((int)attributes.Stride);
        var reverse = attributes.Reverse;
        var batch = ConvGeometry.Dim(x.Shape, 0);
        if (attributes.Extra > 0)
        {
            var inputs = checked((int)x.Shape.ElementsPerItem);
            var outputs = checked((int)y.Shape.ElementsPerItem);
            y.Data.AsSpan().Clear();
            for (var b = 0; b < batch; b++)
            {
                x.Data.AsSpan(b * inputs, inputs).CopyTo(y.Data.AsSpan(b * outputs));
            }

            return;
        }

        var grid = attributes.Reorg3d ? y.Shape : x.Shape;
        int c = ConvGeometry.Dim(grid, 1), h = ConvGeometry.Dim(grid, 2), w = ConvGeometry.Dim(grid, 3);
        if (c / (stride * stride) == 0)
        {
            throw context.Error($"{c} channels cannot be split into {stride}x{stride} blocks (darknet divides by zero here).");
        }

        DarknetReorg(x.Data, w, h, c, batch, stride, forward: reverse, y.Data);
    }

    /// <summary>The index pairing of darknet's reorg_cpu (see the class summary).</summary>
    private static void DarknetReorg(float[] x, int w, int h, int c, int batch, int stride, bool forward, float[] output)
    {
        var outC = c / (stride * stride);
        for (var b = 0; b < batch; b++)
        {
            for (var k = 0; k < c; k++)
            {
                var c2 = k % outC;
                var offset = k / outC;
                for (var j = 0; j < h; j++)
                {
                    var h2 = (j * stride) + (offset / stride);
                    for (var i = 0; i < w; i++)
                    {
                        var inIndex = i + (w * (j + (h * (k + (c * b)))));
                        var w2 = (i * stride) + (offset % stride);
                        var outIndex = w2 + (w * stride * (h2 + (h * stride * (c2 + (outC * b)))));
                        if (forward)
                        {
                            output[outIndex] = x[inIndex];
                        }
                        else
                        {
                            output[inIndex] = x[outIndex];
                        }
                    }
                }
            }
        }
    }
}
