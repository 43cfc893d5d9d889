using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ops;
using static NeuralBuild.Engine.Formats.Onnx.Export.OnnxExportGraph;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// Lowerings of pooling. The IR's output size is already decided by its rounding rule (floor,
/// ONNX ceil, Caffe's ceil with its last-window rule), so the export writes no ceil_mode: it gives
/// each axis the end padding that makes ONNX's floor rule produce exactly that size.
/// </summary>
internal static class OnnxPoolLowering
{
    /// <summary>
    /// MaxPool → MaxPool with explicit pads (padding never wins, as in darknet). Pads of a kernel's
    /// size or more, which ONNX Runtime refuses, become a Pad with -FLT_MAX first: a window wholly
    /// in the padding then gives -FLT_MAX, as the kernel does. Darknet's maxpool_depth → Reshape to
    /// (N, C/out_c, out_c, H, W) and ReduceMax over axis 1 (output channel g is the max of channels
    /// g, g + out_c, …).
    /// </summary>
    public static void MaxPool(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<PoolAttributes>();
        var x = c.InputShape(0);
        if (attributes.Window is not { } g)
        {
            var outChannels = attributes.DepthChannels;
            if (x.C % outChannels != 0)
            {
                throw c.Refuse(DiagnosticCodes.ExportNotExpressible,
                    $"maxpool_depth with {outChannels} output channels over {x.C} input channels, which it does not divide: the channel groups are uneven and no reshape expresses them.");
            }

            var grouped = c.Reshape(c.Input(0), x, [x.N, x.C / outChannels, outChannels, x.H, x.W]);
            c.Reduce("ReduceMax", grouped, [1], keepDims: false, into: c.Output());
            return;
        }

        var (padBottom, padRight) = EndPads(g, x, c.OutputShape());
        var pads = new[] { g.PadTop, g.PadLeft, padBottom, padRight };
        var input = c.Input(0);
        if (pads[0] >= g.KernelH || pads[2] >= g.KernelH || pads[1] >= g.KernelW || pads[3] >= g.KernelW)
        {
            input = c.Pad(input, [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], float.MinValue);
            pads = [0, 0, 0, 0];
        }

        c.Emit("MaxPool", [input],
            [Ints("kernel_shape", [g.KernelH, g.KernelW]), Ints("strides", [g.StrideH, g.StrideW]), Ints("pads", pads), Ints("dilations", [g.DilationH, g.DilationW])],
            c.Output());
    }

    /// <summary>
    /// AveragePool → Pad with zeros (the IR's padding plus what its rounding adds) → AveragePool
    /// without padding, which divides every window by its area; where the kernel divides by
    /// something else (only the in-image elements: count_include_pad=0; Caffe's window clipped to
    /// the padded input) a constant map of area / divisor per output position follows. ONNX's own
    /// count_include_pad is not relied on: runtimes disagree on it at padded borders.
    /// </summary>
    public static void AveragePool(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<PoolAttributes>();
        var x = c.InputShape(0);
        var y = c.OutputShape();
        if (attributes.Window is not { } g)
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible, "average pooling across channels has no window; the engine does not run it either.");
        }

        if (g.DilationH != 1 || g.DilationW != 1)
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible, "a dilated average pooling: ONNX AveragePool has dilations only from opset 19.");
        }

        var (padBottom, padRight) = EndPads(g, x, y);
        var input = c.Input(0);
        if (g.PadTop != 0 || g.PadLeft != 0 || padBottom != 0 || padRight != 0)
        {
            input = c.Pad(input, [0, 0, g.PadTop, g.PadLeft, 0, 0, padBottom, padRight], 0f);
        }

        var factors = AreaOverDivisor(attributes, g, x, y);
        var window = new[] { Ints("kernel_shape", [g.KernelH, g.KernelW]), Ints("strides", [g.StrideH, g.StrideW]) };
        if (factors is null)
        {
            c.Emit("AveragePool", [input], window, c.Output());
            return;
        }

        var mean = c.Emit("AveragePool", [input], window);
        c.Binary("Mul", mean, c.Floats("area_over_divisor", factors, y.H, y.W), c.Output());
    }

    /// <summary>Per output position, the window area over the kernel's divisor; null when every divisor is the area.</summary>
    private static float[]? AreaOverDivisor(PoolAttributes attributes, SpatialGeometry g, Ir.Shape x, Ir.Shape y)
    {
        var area = g.KernelH * g.KernelW;
        var factors = new float[y.H * y.W];
        var allArea = true;
        for (var oy = 0; oy < y.H; oy++)
        {
            for (var ox = 0; ox < y.W; ox++)
            {
                var divisor = !attributes.CountIncludePad
                    ? Inside(oy, g.StrideH, g.PadTop, g.KernelH, x.H) * Inside(ox, g.StrideW, g.PadLeft, g.KernelW, x.W)
                    : attributes.Rounding == PoolRounding.CeilCaffe
                        ? (long)AveragePoolKernel.CaffeWindow((int)oy, (int)g.StrideH, (int)g.PadTop, (int)g.KernelH, (int)(x.H + g.PadBottom))
                            * AveragePoolKernel.CaffeWindow((int)ox, (int)g.StrideW, (int)g.PadLeft, (int)g.KernelW, (int)(x.W + g.PadRight))
                        : area;
                allArea &= divisor == area;
                factors[(oy * y.W) + ox] = (float)((double)area / divisor);
            }
        }

        return allArea ? null : factors;
    }

    /// <summary>Elements of the window of output <paramref name="o"/> inside [0, size).</summary>
    private static long Inside(long o, long stride, long pad, long kernel, long size)
    {
        var start = (o * stride) - pad;
        return Math.Max(0, Math.Min(start + kernel, size) - Math.Max(start, 0));
    }

    /// <summary>The end padding (bottom, right) with which ONNX's floor rule gives the IR's output size: <c>(out-1)*s + d*(k-1) + 1 - in - pad_begin</c>, at least 0.</summary>
    private static (long Bottom, long Right) EndPads(SpatialGeometry g, Ir.Shape x, Ir.Shape y) =>
        (Math.Max(0, ((y.H - 1) * g.StrideH) + (g.DilationH * (g.KernelH - 1)) + 1 - x.H - g.PadTop),
         Math.Max(0, ((y.W - 1) * g.StrideW) + (g.DilationW * (g.KernelW - 1)) + 1 - x.W - g.PadLeft));

    public static void GlobalAveragePool(OnnxLoweringContext c) => c.Unary("GlobalAveragePool", c.Input(0), c.Output());

    public static void GlobalMaxPool(OnnxLoweringContext c) => c.Unary("GlobalMaxPool", c.Input(0), c.Output());

    /// <summary>ReduceMean → ReduceMean (all axes when the IR names none).</summary>
    public static void ReduceMean(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<ReduceMeanAttributes>();
        if (attributes.Axes is { } axes)
        {
            c.Reduce("ReduceMean", c.Input(0), axes, attributes.KeepDims, c.Output());
            return;
        }

        c.Emit("ReduceMean", [c.Input(0)], [Int("keepdims", attributes.KeepDims ? 1 : 0)], c.Output());
    }
}
