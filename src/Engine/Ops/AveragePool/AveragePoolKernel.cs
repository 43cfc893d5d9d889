using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Windowed average (AlexeyAB forward_local_avgpool_layer): the float sum of the in-image
/// elements of each window divided by their count (<c>count_include_pad=0</c>); with
/// <c>count_include_pad=1</c> (ONNX) by the full window area. With <c>rounding = ceil_caffe</c>
/// (Caffe's pooling_layer.cpp) the divisor is the window clipped to the padded input: padding
/// counts, the part of a rounded-up window beyond the padding does not.
/// </summary>
internal sealed class AveragePoolKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var attributes = context.AttributesAs<PoolAttributes>();
        var g = ConvGeometry.From(attributes.Window ?? throw context.Unsupported("average pooling across channels"));
        var includePad = attributes.CountIncludePad;
        var caffe = attributes.Rounding == PoolRounding.CeilCaffe;
        int height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
        var output = TensorLayout.Of(y.Shape);
        var src = x.Data;
        var dst = y.Data;
        ParallelWork.For(context, output.Planes, output.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var inBase = plane * height * width;
                var outBase = plane * outH * outW;
                for (var oy = 0; oy < outH; oy++)
                {
                    for (var ox = 0; ox < outW; ox++)
                    {
                        var sum = 0f;
                        var count = 0;
                        for (var ky = 0; ky < g.KernelH; ky++)
                        {
                            var iy = (oy * g.StrideH) - g.PadTop + (ky * g.DilationH);
                            for (var kx = 0; kx < g.KernelW; kx++)
                            {
                                var ix = (ox * g.StrideW) - g.PadLeft + (kx * g.DilationW);
                                if ((uint)iy < (uint)height && (uint)ix < (uint)width)
                                {
                                    sum += src[inBase + (iy * width) + ix];
                                    count++;
                                }
                            }
                        }

                        var divisor = !includePad ? count
                            : caffe ? CaffeWindow(oy, g.StrideH, g.PadTop, g.KernelH, height + g.PadBottom) * CaffeWindow(ox, g.StrideW, g.PadLeft, g.KernelW, width + g.PadRight)
                            : g.KernelArea;
                        dst[outBase + (oy * outW) + ox] = sum / divisor;
                    }
                }
            }
        });
    }

    /// <summary>Caffe's pool size along one axis: from <c>o*stride - pad</c> to <c>min(start + kernel, size + pad)</c>.</summary>
    internal static int CaffeWindow(int o, int stride, int pad, int kernel, int paddedEnd)
    {
        var start = (o * stride) - pad;
        return Math.Min(start + kernel, paddedEnd) - start;
    }
}
