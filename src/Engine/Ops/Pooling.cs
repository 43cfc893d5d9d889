using NeuralBuild.Engine.Diagnostics;
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
    public static Shape OutputShape(OpContext context)
    {
        var x = context.Image(0);
        var depthChannels = context.Attributes.Int("depth_channels", 0);
        if (depthChannels > 0)
        {
            return context.Positive(Shape.Nchw(x.N, depthChannels, x.H, x.W));
        }

        var g = SpatialGeometry.From(context);
        var rounding = context.Attributes.String("rounding", "floor");
        return rounding switch
        {
            "floor" => context.Positive(Shape.Nchw(x.N, x.C, g.OutH(x.H), g.OutW(x.W))),
            "ceil_caffe" => context.Positive(Shape.Nchw(x.N, x.C,
                CaffeCeil(x.H, g.KernelH, g.StrideH, g.PadTop, g.PadBottom),
                CaffeCeil(x.W, g.KernelW, g.StrideW, g.PadLeft, g.PadRight))),
            "ceil" => context.Positive(Shape.Nchw(x.N, x.C,
                Ceil(x.H, g.KernelH, g.StrideH, g.PadTop, g.PadBottom, g.DilationH),
                Ceil(x.W, g.KernelW, g.StrideW, g.PadLeft, g.PadRight, g.DilationW))),
            _ => throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"pooling rounding '{rounding}' is not one of floor, ceil, ceil_caffe."),
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
    public static OpCost WindowCost(OpContext context)
    {
        var y = context.Output;
        var x = context.Input(0);
        var window = context.Attributes.Int("depth_channels", 0) > 0
            ? x.C / Math.Max(1, y.C)
            : SpatialGeometry.From(context).KernelArea;
        var work = Checked.Mul(window, y.ElementCount);
        return new OpCost { NaiveInputReads = work, Flops = new FlopTerms(Pooling: work) };
    }
}
