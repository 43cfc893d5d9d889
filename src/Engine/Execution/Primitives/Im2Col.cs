namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Builds a block of the im2col matrix of a convolution: row <c>k = (ci*kh + ky)*kw + kx</c>,
/// column <c>j = oy*Wout + ox</c> holds the input pixel that weight (ci, ky, kx) meets at output
/// (oy, ox), or 0 where the window lies in the padding (darknet's im2col_get_pixel).
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>
    /// Writes rows [kStart, kStart+kc) and columns [j0, j0+n) to <paramref name="dst"/> (row stride
    /// <paramref name="ldb"/>), zeroing the columns between n and ldb.
    /// </summary>
    public static void FillBlock(float* image, int height, int width, ConvGeometry g, int outWidth, int kStart, int kc, int j0, int n, float* dst, int ldb)
    {
        var area = g.KernelArea;
        for (var kk = 0; kk < kc; kk++)
        {
            var k = kStart + kk;
            var ci = k / area;
            var rem = k - (ci * area);
            var ky = rem / g.KernelW;
            var kx = rem - (ky * g.KernelW);
            var channel = image + ((long)ci * height * width);
            var row = dst + ((long)kk * ldb);
            var offY = (ky * g.DilationH) - g.PadTop;
            var offX = (kx * g.DilationW) - g.PadLeft;

            var j = j0;
            var end = j0 + n;
            var written = 0;
            while (j < end)
            {
                var oy = j / outWidth;
                var ox = j - (oy * outWidth);
                var count = Math.Min(outWidth - ox, end - j);
                var iy = (oy * g.StrideH) + offY;
                var target = row + written;
                if (iy < 0 || iy >= height)
                {
                    new Span<float>(target, count).Clear();
                }
                else
                {
                    CopyRow(channel + ((long)iy * width), width, (ox * g.StrideW) + offX, g.StrideW, count, target);
                }

                written += count;
                j += count;
            }

            if (ldb > n)
            {
                new Span<float>(row + n, ldb - n).Clear();
            }
        }
    }

    /// <summary>dst[t] = src[x0 + t*stride] where that lies inside [0, width), else 0.</summary>
    private static void CopyRow(float* src, int width, int x0, int stride, int count, float* dst)
    {
        if (stride == 1)
        {
            // Zeros left of the image, one contiguous copy, zeros right of it.
            var first = Math.Clamp(-x0, 0, count);
            var last = Math.Clamp(width - x0, first, count);
            if (first > 0)
            {
                new Span<float>(dst, first).Clear();
            }

            if (last > first)
            {
                new ReadOnlySpan<float>(src + x0 + first, last - first).CopyTo(new Span<float>(dst + first, last - first));
            }

            if (count > last)
            {
                new Span<float>(dst + last, count - last).Clear();
            }

            return;
        }

        for (var t = 0; t < count; t++)
        {
            var x = x0 + (t * stride);
            dst[t] = (uint)x < (uint)width ? src[x] : 0f;
        }
    }
}
