using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Darknet's forward_maxpool_layer: the max over the in-image elements of each window, starting
/// from -FLT_MAX (padding never wins; a window wholly outside the image yields -FLT_MAX). With
/// <c>depth_channels</c> (AlexeyAB maxpool_depth) output channel g is the max over input channels
/// g, g + out_c, g + 2*out_c, … at each pixel.
/// </summary>
internal sealed class MaxPoolKernel : Kernel
{
    public override string OpType => "MaxPool";

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var input = TensorLayout.Of(x.Shape);
        var output = TensorLayout.Of(y.Shape);
        if (context.Attributes.Int("depth_channels", 0) > 0)
        {
            DepthMax(x.Data, y.Data, input, output.Channels);
            return;
        }

        var g = ConvGeometry.From(context.Attributes);
        int height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
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
                        var max = float.MinValue;
                        for (var ky = 0; ky < g.KernelH; ky++)
                        {
                            var iy = (oy * g.StrideH) - g.PadTop + (ky * g.DilationH);
                            if ((uint)iy >= (uint)height)
                            {
                                continue;
                            }

                            for (var kx = 0; kx < g.KernelW; kx++)
                            {
                                var ix = (ox * g.StrideW) - g.PadLeft + (kx * g.DilationW);
                                if ((uint)ix < (uint)width)
                                {
                                    var v = src[inBase + (iy * width) + ix];
                                    max = v > max ? v : max;
                                }
                            }
                        }

                        dst[outBase + (oy * outW) + ox] = max;
                    }
                }
            }
        });
    }

    private static void DepthMax(float[] x, float[] y, TensorLayout input, int outChannels)
    {
        for (var b = 0; b < input.Batch; b++)
        {
            for (var g = 0; g < outChannels; g++)
            {
                var dst = y.AsSpan(((b * outChannels) + g) * input.Plane, input.Plane);
                dst.Fill(float.MinValue);
                for (var k = g; k < input.Channels; k += outChannels)
                {
                    var src = x.AsSpan(((b * input.Channels) + k) * input.Plane, input.Plane);
                    for (var i = 0; i < dst.Length; i++)
                    {
                        dst[i] = src[i] > dst[i] ? src[i] : dst[i];
                    }
                }
            }
        }
    }
}
