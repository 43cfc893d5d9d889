using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Shape and cost rules shared by <see cref="MaxPool"/> and <see cref="AveragePool"/>.
/// Attribute <c>rounding</c>: <c>floor</c> (default; the convolution rule of docs/metrics.md) or
/// <c>ceil</c>: ONNX's ceil_mode (see <see cref="Ceil"/>); <c>ceil_caffe</c>: Caffe's <c>out = ceil((in + pad_begin + pad_end - k) / stride) + 1</c>, minus one
/// when padding is present and the last window would start at or beyond <c>in + pad_begin</c>
/// (every window must start inside the image or its leading padding).
/// </summary>
internal static class Pooling
{
    private static readonly (string, PoolRounding)[] s_roundings =
    [
        ("floor", PoolRounding.Floor),
        ("ceil", PoolRounding.Ceil),
        ("ceil_caffe", PoolRounding.CeilCaffe),
    ];

    /// <summary>
    /// The attributes of either pooling: a depth pool (<c>depth_channels</c> &gt; 0) has no window;
    /// otherwise the window, the rounding and (average pooling) <c>count_include_pad</c>.
    /// </summary>
    public static PoolAttributes Parse(AttributeReader a)
    {
        var depthChannels = a.Int("depth_channels", 0, min: 0);
        if (depthChannels > 0)
        {
            return new PoolAttributes(null, depthChannels, PoolRounding.Floor, CountIncludePad: false);
        }

        var window = SpatialGeometry.Parse(a);
        var rounding = a.Choice("rounding", "floor", s_roundings);
        return new PoolAttributes(window, 0, rounding, a.Flag("count_include_pad"));
    }

    public static Shape OutputShape(OpContext context, PoolAttributes attributes)
    {
        var x = context.Image(0);
        if (attributes.Window is not { } g)
        {
            return context.Positive(Shape.Nchw(x.N, attributes.DepthChannels, x.H, x.W));
        }

        return attributes.Rounding switch
        {
            PoolRounding.CeilCaffe => context.Positive(Shape.Nchw(x.N, x.C,
                CaffeCeil(x.H, g.KernelH, g.StrideH, g.PadTop, g.PadBottom),
                CaffeCeil(x.W, g.KernelW, g.StrideW, g.PadLeft, g.PadRight))),
            PoolRounding.Ceil => context.Positive(Shape.Nchw(x.N, x.C,
                Ceil(x.H, g.KernelH, g.StrideH, g.PadTop, g.PadBottom, g.DilationH),
                Ceil(x.W, g.KernelW, g.StrideW, g.PadLeft, g.PadRight, g.DilationW))),
            _ => context.Positive(Shape.Nchw(x.N, x.C, g.OutH(x.H), g.OutW(x.W))),
        };
    }

    /// <summary>Caffe's pooled size (PoolingLayer::Reshape): round up, then clip the window that would start in the trailing padding.</summary>
    public static long CaffeCeil(long input, long kernel, long stride, long padBegin, long padEnd)
    {
        var span = input + padBegin + padEnd - kernel;
        var output = (span >= 0 ? (span + stride - 1) / stride : -(-span / stride)) + 1;
        if (padBegin > 0 && (output - 1) * stride >= input + padBegin)
        {
            output--;
        }

        return output;
    }

    /// <summary>
    /// ONNX <c>ceil_mode</c> as PyTorch and ONNX Runtime compute it (and ONNX states from opset 19):
    /// <c>ceil((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1</c>, minus one when the last
    /// window would start at or beyond <c>in + pad_begin</c> (in the end padding), with or without padding.
    /// </summary>
    public static long Ceil(long input, long kernel, long stride, long padBegin, long padEnd, long dilation)
    {
        var span = input + padBegin + padEnd - (dilation * (kernel - 1)) - 1;
        var output = (span >= 0 ? (span + stride - 1) / stride : -(-span / stride)) + 1;
        if ((output - 1) * stride >= input + padBegin)
        {
            output--;
        }

        return output;
    }

    /// <summary>Every output element looks at its whole window: <c>Hout*Wout*C*kh*kw</c> reads and compares.</summary>
    public static OpCost WindowCost(OpContext context, PoolAttributes attributes)
    {
        var y = context.Output;
        var x = context.Input(0);
        var window = attributes.Window is { } g ? g.KernelArea : x.C / Math.Max(1, y.C);
        var work = Checked.Mul(window, y.ElementCount);
        return new OpCost { NaiveInputReads = work, Flops = new FlopTerms(Pooling: work) };
    }
}

/// <summary>How a pooling's output size rounds (see <see cref="Pooling"/>).</summary>
public enum PoolRounding
{
    Floor,
    Ceil,
    CeilCaffe,
}

/// <summary>
/// Attributes of <see cref="MaxPool"/> and <see cref="AveragePool"/>: a window (null for darknet's
/// depth max pool, which has <see cref="DepthChannels"/> output channels instead), its rounding, and
/// whether an average counts the padding.
/// </summary>
public sealed record PoolAttributes(SpatialGeometry? Window, long DepthChannels, PoolRounding Rounding, bool CountIncludePad);
