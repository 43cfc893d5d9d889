using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet's forward_upsample_layer. A positive stride repeats each pixel stride x stride times,
/// times <c>scale</c> (upsample_cpu forward). A negative stride is darknet's "reverse": the output
/// starts at zero and every stride x stride block of the input is summed into one pixel, each term
/// times <c>scale</c> (upsample_cpu backward into the output) — a sum, not a subsampling.
/// </summary>
internal sealed class UpsampleKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var attributes = context.AttributesAs<UpsampleAttributes>();
        var stride = checked((int)attributes.Stride);
        var scale = (float)attributes.Scale;
        int height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
        var planes = TensorLayout.Of(y.Shape);
        var src = x.Data;
        var dst = y.Data;
        ParallelWork.For(context, planes.Planes, planes.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var inBase = plane * height * width;
                var outBase = plane * outH * outW;
                if (stride > 0)
                {
                    for (var oy = 0; oy < outH; oy++)
                    {
                        var row = inBase + (oy / stride * width);
                        for (var ox = 0; ox < outW; ox++)
                        {
                            dst[outBase + (oy * outW) + ox] = scale * src[row + (ox / stride)];
                        }
                    }

                    continue;
                }

                var s = -stride;
                for (var oy = 0; oy < outH; oy++)
                {
                    for (var ox = 0; ox < outW; ox++)
                    {
                        var sum = 0f;
                        for (var dy = 0; dy < s; dy++)
                        {
                            for (var dx = 0; dx < s; dx++)
                            {
                                sum += scale * src[inBase + (((oy * s) + dy) * width) + (ox * s) + dx];
                            }
                        }

                        dst[outBase + (oy * outW) + ox] = sum;
                    }
                }
            }
        });
    }
}
