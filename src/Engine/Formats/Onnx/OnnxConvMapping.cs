using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Conv, ConvTranspose, MaxPool and AveragePool: their window attributes checked and made explicit
/// (auto_pad resolved to pads, ceil_mode to the IR's rounding).
/// </summary>
internal static class OnnxConvMapping
{
    public static void Conv(OnnxNode n) =>
        n.Emit("Conv", [n.X, n.Weight(1, "W"), .. n.Optional(2)], ConvAttributes(n));

    public static void ConvTranspose(OnnxNode n) =>
        n.Emit("ConvTranspose", [n.X, n.Weight(1, "W"), .. n.Optional(2)], ConvTransposeAttributes(n));

    /// <summary>MaxPool and AveragePool.</summary>
    public static void Pool(OnnxNode n)
    {
        if (n.Proto.Output.Skip(1).Any(o => o.Length > 0))
        {
            throw n.Invalid("the Indices output is not supported");
        }

        n.Emit(n.OpType, [n.X], PoolAttributes(n));
    }

    /// <summary>A 2-D window as ONNX states it, auto_pad resolved: each array is (H, W), pads (top, left, bottom, right).</summary>
    private sealed record Window(long[] Kernel, long[] Strides, long[] Pads, long[] Dilations)
    {
        public Attributes ToAttributes() =>
            new Attributes().Set("kernel_shape", Kernel).Set("strides", Strides).Set("pads", Pads).Set("dilations", Dilations);
    }

    private static Attributes ConvAttributes(OnnxNode n) =>
        ReadWindow(n, isPool: false).ToAttributes().Set("group", n.Attr.Int("group", 1));

    private static Window ReadWindow(OnnxNode n, bool isPool)
    {
        var x = n.ShapeOf(n.Value(0));
        long[] kernel;
        if (isPool)
        {
            kernel = n.Attr.Ints("kernel_shape") ?? throw n.Invalid("kernel_shape is missing");
        }
        else
        {
            var w = n.ShapeOf(n.Weight(1, "W"));
            kernel = n.Attr.Ints("kernel_shape") ?? [.. w.Dims.Skip(2)];
        }

        if (x.Rank != 4 || kernel.Length != 2)
        {
            throw n.Invalid($"only 2-D windows over N x C x H x W inputs are supported; input {x}, kernel [{string.Join(", ", kernel)}]");
        }

        var strides = n.Attr.Ints("strides") ?? [1, 1];
        var dilations = n.Attr.Ints("dilations") ?? [1, 1];
        if (strides.Length != 2 || dilations.Length != 2)
        {
            throw n.Invalid($"strides [{string.Join(", ", strides)}] and dilations [{string.Join(", ", dilations)}] must be two numbers each");
        }

        if (strides.Concat(dilations).Concat(kernel).Any(v => v <= 0 || v > ModelLimits.MaxExtent))
        {
            // Checked before auto_pad divides by the strides; the same range as the ops' own check.
            throw n.OutOfRange($"kernel [{string.Join(", ", kernel)}], strides [{string.Join(", ", strides)}] and dilations [{string.Join(", ", dilations)}] must lie in [1, {ModelLimits.MaxExtent}]");
        }

        return new Window(kernel, strides, AutoPads(n, [x.H, x.W], kernel, strides, dilations), dilations);
    }

    /// <summary>
    /// Pads (begin…end) after auto_pad: NOTSET uses <c>pads</c>; VALID none; SAME_UPPER / SAME_LOWER pad
    /// so that <c>out = ceil(in / stride)</c>, the odd pixel at the end (UPPER) or the beginning (LOWER).
    /// </summary>
    private static long[] AutoPads(OnnxNode n, long[] input, long[] kernel, long[] strides, long[] dilations)
    {
        var autoPad = n.Attr.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET":
                {
                    var pads = n.Attr.Ints("pads") ?? [0, 0, 0, 0];
                    return pads.Length == 4
                        ? pads
                        : throw n.Invalid($"pads [{string.Join(", ", pads)}] must be four numbers (top, left, bottom, right)");
                }

            case "VALID":
                return [0, 0, 0, 0];
            case "SAME_UPPER":
            case "SAME_LOWER":
                {
                    var begin = new long[2];
                    var end = new long[2];
                    for (var i = 0; i < 2; i++)
                    {
                        var output = (input[i] + strides[i] - 1) / strides[i];
                        var total = Math.Max(0, ((output - 1) * strides[i]) + (dilations[i] * (kernel[i] - 1)) + 1 - input[i]);
                        begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
                        end[i] = total - begin[i];
                    }

                    return [begin[0], begin[1], end[0], end[1]];
                }

            default:
                throw n.Invalid($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
    }

    private static Attributes ConvTransposeAttributes(OnnxNode n)
    {
        if (n.Attr.String("auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
        {
            throw n.Invalid("auto_pad SAME_* is not supported for ConvTranspose; export with explicit pads");
        }

        if ((n.Attr.Ints("output_padding") ?? []).Any(p => p != 0) || n.Attr.Ints("output_shape") is not null)
        {
            throw n.Invalid("output_padding and output_shape are not supported");
        }

        return ConvAttributes(n);
    }

    private static Attributes PoolAttributes(OnnxNode n)
    {
        var window = ReadWindow(n, isPool: true);
        var attributes = window.ToAttributes();
        if (n.Attr.Flag("ceil_mode", 0) != 0)
        {
            attributes.Set("rounding", "ceil");
        }

        if (n.OpType == "AveragePool")
        {
            var includePad = n.Attr.Flag("count_include_pad", 0);
            attributes.Set("count_include_pad", includePad);
            if (includePad != 0 && n.Attr.Flag("ceil_mode", 0) != 0 && ExtraCeilWindow(n, window))
            {
                // The window ceil_mode adds reaches past the end padding; whether the part beyond it
                // counts in the divisor differs between ONNX's reference, ONNX Runtime and PyTorch.
                throw n.Invalid("ceil_mode=1 with count_include_pad=1, where a window reaches past the end padding, is not supported (implementations disagree on its divisor)");
            }
        }

        return attributes;
    }

    /// <summary>True when ceil_mode gives a pooled axis one more window than floor, i.e. a window that ends past the end padding.</summary>
    private static bool ExtraCeilWindow(OnnxNode n, Window window)
    {
        var x = n.ShapeOf(n.Proto.Input[0]);
        var (k, s, p, d) = (window.Kernel, window.Strides, window.Pads, window.Dilations);
        for (var i = 0; i < 2; i++)
        {
            var input = x[2 + i];
            var span = input + p[i] + p[i + 2] - (d[i] * (k[i] - 1)) - 1;
            var floor = span >= 0 ? (span / s[i]) + 1 : 0;
            if (Pooling.Ceil(input, k[i], s[i], p[i], p[i + 2], d[i]) > floor)
            {
                return true;
            }
        }

        return false;
    }
}
