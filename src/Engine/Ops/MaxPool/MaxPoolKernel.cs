using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet's forward_maxpool_layer: the max over the in-image elements of each window, starting
/// from -FLT_MAX (padding never wins; a window wholly outside the image yields -FLT_MAX). With
/// <c>depth_channels</c> (AlexeyAB maxpool_depth) output channel g is the max over input channels
/// g, g + out_c, g + 2*out_c, … at each pixel.
/// </summary>
internal sealed class MaxPoolKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var input = TensorLayout.Of(x.Shape);
        var output = TensorLayout.Of(y.Shape);
        if (context.AttributesAs<PoolAttributes>().Window is not { } window)
        {
            DepthMax(x.Data, y.Data, input, output.Channels);
            return;
        }

        var g = ConvGeometry.From(window);
        int height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
        var src = x.Data;
        var dst = y.Data;
        ParallelWork.For(context, output.Planes, output.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                PoolPlane(
                    src.AsSpan(plane * height * width, height * width), height, width,
                    dst.AsSpan(plane * outH * outW, outH * outW), outH, outW, g);
            }
        });
    }

    /// <summary>
    /// One channel plane. Windows wholly inside the image (all but a border) take the max of their
    /// elements without bounds checks; border windows skip the elements outside, as darknet does.
    /// </summary>
    private static void PoolPlane(ReadOnlySpan<float> input, int height, int width, Span<float> output, int outH, int outW, ConvGeometry g)
    {
        // Output columns [left, right) and rows [top, bottom) whose windows lie inside the image.
        var reachX = (g.KernelW - 1) * g.DilationW;
        var reachY = (g.KernelH - 1) * g.DilationH;
        var left = Math.Min(outW, (g.PadLeft + g.StrideW - 1) / g.StrideW);
        var right = Math.Max(left, Math.Min(outW, ((width - 1 - reachX + g.PadLeft) / g.StrideW) + 1));
        var top = Math.Min(outH, (g.PadTop + g.StrideH - 1) / g.StrideH);
        var bottom = Math.Max(top, Math.Min(outH, ((height - 1 - reachY + g.PadTop) / g.StrideH) + 1));
        if (width - 1 - reachX + g.PadLeft < 0)
        {
            right = left;
        }

        if (height - 1 - reachY + g.PadTop < 0)
        {
            bottom = top;
        }

        for (var oy = 0; oy < outH; oy++)
        {
            var iy0 = (oy * g.StrideH) - g.PadTop;
            var interiorRow = oy >= top && oy < bottom;
            var row = output.Slice(oy * outW, outW);
            for (var ox = 0; ox < outW; ox++)
            {
                var ix0 = (ox * g.StrideW) - g.PadLeft;
                if (interiorRow && ox >= left && ox < right)
                {
                    if (g.KernelH == 2 && g.KernelW == 2 && g.DilationH == 1 && g.DilationW == 1)
                    {
                        // The common darknet window: four loads, three compares.
                        var at = (iy0 * width) + ix0;
                        var a = Math.Max(input[at], input[at + 1]);
                        var b = Math.Max(input[at + width], input[at + width + 1]);
                        row[ox] = Math.Max(a, b);
                        continue;
                    }

                    var inside = float.MinValue;
                    for (var ky = 0; ky < g.KernelH; ky++)
                    {
                        var line = input.Slice(((iy0 + (ky * g.DilationH)) * width) + ix0);
                        for (var kx = 0; kx < g.KernelW; kx++)
                        {
                            var v = line[kx * g.DilationW];
                            inside = v > inside ? v : inside;
                        }
                    }

                    row[ox] = inside;
                    continue;
                }

                var max = float.MinValue;
                for (var ky = 0; ky < g.KernelH; ky++)
                {
                    var iy = iy0 + (ky * g.DilationH);
                    if ((uint)iy >= (uint)height)
                    {
                        continue;
                    }

                    for (var kx = 0; kx < g.KernelW; kx++)
                    {
                        var ix = ix0 + (kx * g.DilationW);
                        if ((uint)ix < (uint)width)
                        {
                            var v = input[(iy * width) + ix];
                            max = v > max ? v : max;
                        }
                    }
                }

                row[ox] = max;
            }
        }
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
