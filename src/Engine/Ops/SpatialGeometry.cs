using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Ops;

/// <summary>Window attributes shared by convolution and pooling: kernel, strides, pads (begin…end), dilations.</summary>
internal readonly record struct SpatialGeometry(long KernelH, long KernelW, long StrideH, long StrideW, long PadTop, long PadLeft, long PadBottom, long PadRight, long DilationH, long DilationW)
{
    public static SpatialGeometry From(OpContext context)
    {
        var a = context.Attributes;
        var k = a.Ints("kernel_shape");
        var s = a.Ints("strides", [1, 1]);
        var p = a.Ints("pads", [0, 0, 0, 0]);
        var d = a.Ints("dilations", [1, 1]);
        var g = new SpatialGeometry(k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1]);
        if (g.KernelH <= 0 || g.KernelW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 || g.DilationH <= 0 || g.DilationW <= 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"kernel {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW} and dilation must be positive.");
        }

        if (g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0)
        {
            throw context.Error(DiagnosticCodes.AttributeOutOfRange, "padding must not be negative.");
        }

        return g;
    }

    public long KernelArea => KernelH * KernelW;

    /// <summary><c>floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1</c>.</summary>
    public long OutH(long inH) => FloorDiv(inH + PadTop + PadBottom - (DilationH * (KernelH - 1)) - 1, StrideH) + 1;

    public long OutW(long inW) => FloorDiv(inW + PadLeft + PadRight - (DilationW * (KernelW - 1)) - 1, StrideW) + 1;

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
