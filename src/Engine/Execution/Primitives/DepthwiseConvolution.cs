using System.Numerics;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Convolution where every output channel reads a single input channel (groups = input channels,
/// as in MobileNet / EfficientNet). As a GEMM each group would be a 1-row product padded to a
/// 6-row panel; here each output plane instead accumulates one shifted, scaled copy of its input
/// plane per kernel tap (a vectorised axpy along rows for stride 1), starting from the bias.
/// </summary>
internal static class DepthwiseConvolution
{
    public static void Run(KernelContext context, float[] x, float[] w, float[]? bias, float[] y, int batch, int channels, int height, int width, int cout, int outH, int outW, ConvGeometry g)
    {
        var multiplier = cout / channels;
        var area = g.KernelArea;
        ParallelWork.For(context, (long)batch * cout, Math.Max(1, (1 << 14) / Math.Max(1, outH * outW * area)), (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var n = plane / cout;
                var co = plane % cout;
                var ci = co / multiplier;
                var input = x.AsSpan(((n * channels) + ci) * height * width, height * width);
                var output = y.AsSpan(plane * outH * outW, outH * outW);
                output.Fill(bias?[co] ?? 0f);
                for (var ky = 0; ky < g.KernelH; ky++)
                {
                    for (var kx = 0; kx < g.KernelW; kx++)
                    {
                        var weight = w[(co * area) + (ky * g.KernelW) + kx];
                        var offX = (kx * g.DilationW) - g.PadLeft;

                        // Output columns whose input column ox*stride + offX lies inside the image.
                        var first = offX >= 0 ? 0 : (-offX + g.StrideW - 1) / g.StrideW;
                        var last = width - 1 - offX < 0 ? -1 : Math.Min(outW - 1, (width - 1 - offX) / g.StrideW);
                        if (last < first)
                        {
                            continue;
                        }

                        for (var oy = 0; oy < outH; oy++)
                        {
                            var iy = (oy * g.StrideH) - g.PadTop + (ky * g.DilationH);
                            if ((uint)iy >= (uint)height)
                            {
                                continue;
                            }

                            var row = output.Slice((oy * outW) + first, last - first + 1);
                            var source = input.Slice((iy * width) + (first * g.StrideW) + offX);
                            if (g.StrideW == 1)
                            {
                                Axpy(weight, source[..row.Length], row);
                            }
                            else
                            {
                                for (var i = 0; i < row.Length; i++)
                                {
                                    row[i] += weight * source[i * g.StrideW];
                                }
                            }
                        }
                    }
                }

                context.Epilogue?.Apply(co, output);
            }
        });
    }

    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var factor = new Vector<float>(a);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(y[i..]) + (factor * new Vector<float>(x[i..]))).CopyTo(y[i..]);
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }
}
