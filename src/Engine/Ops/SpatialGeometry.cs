using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Window attributes shared by convolution and pooling: <c>kernel_shape</c>, <c>strides</c>, <c>pads</c>
/// (top, left, bottom, right) and <c>dilations</c>, parsed and range-checked once for all of them.
/// </summary>
public readonly record struct SpatialGeometry(long KernelH, long KernelW, long StrideH, long StrideW, long PadTop, long PadLeft, long PadBottom, long PadRight, long DilationH, long DilationW)
{
    internal static SpatialGeometry Parse(AttributeReader a)
    {
        var k = a.Ints("kernel_shape");
        var s = a.Ints("strides", [1, 1]);
        var p = a.Ints("pads", [0, 0, 0, 0]);
        var d = a.Ints("dilations", [1, 1]);
        if (k.Length != 2 || s.Length != 2 || p.Length != 4 || d.Length != 2)
        {
            throw a.OutOfRange(
                $"kernel [{string.Join(", ", k)}], strides [{string.Join(", ", s)}], dilations [{string.Join(", ", d)}] need two values each and pads [{string.Join(", ", p)}] four.");
        }

        var g = new SpatialGeometry(k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1]);
        if (g.KernelH <= 0 || g.KernelW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 || g.DilationH <= 0 || g.DilationW <= 0)
        {
            throw a.OutOfRange($"kernel {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW} and dilation {g.DilationH}x{g.DilationW} must be positive.");
        }

        if (g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0)
        {
            throw a.OutOfRange($"padding [{string.Join(", ", p)}] must not be negative.");
        }

        if (g.Largest > ModelLimits.MaxExtent)
        {
            throw a.OutOfRange(
                $"kernel {g.KernelH}x{g.KernelW}, stride {g.StrideH}x{g.StrideW}, dilation {g.DilationH}x{g.DilationW} or padding [{string.Join(", ", p)}] is too large: each must be {ModelLimits.ExtentLimitReason}.");
        }

        return g;
    }

    public long KernelArea => Checked.Mul(KernelH, KernelW);

    /// <summary>The largest of the window's ten numbers.</summary>
    private long Largest => Math.Max(
        Math.Max(Math.Max(KernelH, KernelW), Math.Max(StrideH, StrideW)),
        Math.Max(Math.Max(Math.Max(PadTop, PadLeft), Math.Max(PadBottom, PadRight)), Math.Max(DilationH, DilationW)));

    public bool HasPadding => PadTop != 0 || PadLeft != 0 || PadBottom != 0 || PadRight != 0;

    /// <summary>The weights' spatial axes (2 and 3) are the kernel: a kernel_shape that disagrees with them is NM0024.</summary>
    internal void RequireKernelOf(OpContext context, Shape weights)
    {
        if (weights.Rank != 4 || weights[2] != KernelH || weights[3] != KernelW)
        {
            throw context.Error(DiagnosticCodes.ParameterShapeMismatch, $"weights {weights} do not hold the {KernelH}x{KernelW} kernel the layer declares.");
        }
    }

    /// <summary><c>floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1</c>.</summary>
    public long OutH(long inH) => Out(inH, PadTop, PadBottom, KernelH, StrideH, DilationH);

    public long OutW(long inW) => Out(inW, PadLeft, PadRight, KernelW, StrideW, DilationW);

    /// <summary>Transposed convolution: <c>stride*(in-1) + dilation*(k-1) + 1 - pad_begin - pad_end</c>.</summary>
    public long TransposedOutH(long inH) => TransposedOut(inH, PadTop, PadBottom, KernelH, StrideH, DilationH);

    public long TransposedOutW(long inW) => TransposedOut(inW, PadLeft, PadRight, KernelW, StrideW, DilationW);

    private static long Out(long input, long padBegin, long padEnd, long kernel, long stride, long dilation) =>
        FloorDiv(Checked.Add(Checked.Add(input, padBegin), padEnd) - Checked.Mul(dilation, kernel - 1) - 1, stride) + 1;

    private static long TransposedOut(long input, long padBegin, long padEnd, long kernel, long stride, long dilation) =>
        Checked.Add(Checked.Mul(stride, input - 1), Checked.Mul(dilation, kernel - 1)) + 1 - padBegin - padEnd;

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
