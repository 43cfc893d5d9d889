using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Convolution, Deconvolution, InnerProduct and Pooling: the layers with a kernel or a weight matrix,
/// each deriving its weight shapes from its bottom and its parameters.
/// </summary>
internal static class CaffeConvMapping
{
    public static void Convolution(CaffeLayerContext layer, bool transposed)
    {
        var p = layer.P;
        var c = p.ConvolutionParam ?? throw layer.Invalid("type", $"a {p.Type} layer needs convolution_param {{ num_output … kernel_size … }}.");
        var input = layer.Bottoms(1, 1)[0];
        var x = layer.RequireImage(input);
        if (c.Axis != 1)
        {
            throw layer.UnsupportedOption(c, "axis", $"convolution over axis {c.Axis}; only the channel axis 1 of N x C x H x W inputs is supported.");
        }

        if (!c.HasNumOutput || c.NumOutput == 0)
        {
            throw layer.Invalid(c, "num_output", "num_output must be given and positive.");
        }

        layer.AtMostExtent(c, "num_output", c.NumOutput);
        var (kh, kw) = Pair(layer, c, c.KernelSize, "kernel_size", c.HasKernelH, c.HasKernelW, c.KernelH, c.KernelW, "kernel_h", "kernel_w", fallback: null);
        var (sh, sw) = Pair(layer, c, c.Stride, "stride", c.HasStrideH, c.HasStrideW, c.StrideH, c.StrideW, "stride_h", "stride_w", fallback: 1);
        var (ph, pw) = Pair(layer, c, c.Pad, "pad", c.HasPadH, c.HasPadW, c.PadH, c.PadW, "pad_h", "pad_w", fallback: 0, allowZero: true);
        var (dh, dw) = Pair(layer, c, c.Dilation, "dilation", false, false, 0, 0, "dilation", "dilation", fallback: 1);
        var group = (long)c.Group;
        var outputs = (long)c.NumOutput;
        if (group <= 0 || x.C % group != 0 || outputs % group != 0)
        {
            throw layer.Invalid(c, "group", $"group {group} must divide the {x.C} input channels and num_output {outputs}.");
        }

        var weightShape = transposed ? new Shape(x.C, outputs / group, kh, kw) : new Shape(outputs, x.C / group, kh, kw);
        var inputs = new List<string> { input, layer.Param(0, "weights", weightShape) };
        if (c.BiasTerm)
        {
            inputs.Add(layer.Param(1, "bias", new Shape(outputs)));
        }

        layer.Emit(transposed ? "ConvTranspose" : "Conv", inputs, 1, configure: a => a
            .Set("kernel_shape", [kh, kw])
            .Set("strides", [sh, sw])
            .Set("pads", [ph, pw, ph, pw])
            .Set("dilations", [dh, dw])
            .Set("group", group));
    }

    /// <summary>
    /// Caffe's rule for a 2-D size given as a repeated field (one value for both axes, or h then w)
    /// or as the *_h / *_w pair (the two spellings exclude each other; an unset half is 0).
    /// </summary>
    private static (long H, long W) Pair(CaffeLayerContext layer, IMessage message, Google.Protobuf.Collections.RepeatedField<uint> values, string field, bool hasH, bool hasW, uint h, uint w,
        string hField, string wField, long? fallback, bool allowZero = false)
    {
        if (hasH || hasW)
        {
            if (values.Count > 0)
            {
                throw layer.Invalid(message, hField, $"give either {field} or {hField}/{wField}, not both.");
            }

            if (!allowZero && !(hasH && hasW))
            {
                throw layer.Invalid(message, hasH ? hField : wField, $"{hField} and {wField} must be given together.");
            }

            return Check(layer, message, (hField, 0), (wField, 0), h, w, allowZero);
        }

        switch (values.Count)
        {
            case 0 when fallback is not null:
                return (fallback.Value, fallback.Value);
            case 0:
                throw layer.Invalid(message, field, $"{field} (or {hField} and {wField}) must be given.");
            case 1:
                return Check(layer, message, (field, 0), (field, 0), values[0], values[0], allowZero);
            case 2:
                return Check(layer, message, (field, 0), (field, 1), values[0], values[1], allowZero);
            default:
                throw layer.UnsupportedOption(message, field, $"{values.Count} values for {field}: {values.Count}-D convolution; only 2-D is supported.");
        }
    }

    /// <summary>Both halves of a 2-D size: positive (or 0 when allowed) and at most 2^20, refused where the bad half was written.</summary>
    private static (long, long) Check(CaffeLayerContext layer, IMessage message, (string Field, int Index) hAt, (string Field, int Index) wAt, uint h, uint w, bool allowZero)
    {
        foreach (var (value, at) in new[] { (h, hAt), (w, wAt) })
        {
            if (value == 0 && !allowZero)
            {
                throw layer.Invalid(message, at.Field, at.Index, $"{at.Field} must be positive (got {h} x {w}).");
            }

            if (value > ModelLimits.MaxExtent)
            {
                throw layer.Invalid(message, at.Field, at.Index, $"{at.Field} {value} is too large: {ModelLimits.ExtentLimitReason}.");
            }
        }

        return (h, w);
    }

    public static void InnerProduct(CaffeLayerContext layer)
    {
        var p = layer.P;
        var ip = p.InnerProductParam ?? throw layer.Invalid("type", "an InnerProduct layer needs inner_product_param { num_output … }.");
        var input = layer.Bottoms(1, 1)[0];
        var x = layer.ShapeOf(input);
        if (!ip.HasNumOutput || ip.NumOutput == 0)
        {
            throw layer.Invalid(ip, "num_output", "num_output must be given and positive.");
        }

        layer.AtMostExtent(ip, "num_output", ip.NumOutput);

        if (ip.Axis != 1 && ip.Axis != 1 - x.Rank)
        {
            throw layer.UnsupportedOption(ip, "axis", $"axis {ip.Axis}: only axis 1 (flatten everything but the batch) is supported.");
        }

        var inputsPerItem = x.ElementsPerItem;
        var outputs = (long)ip.NumOutput;
        var weightShape = ip.Transpose ? new Shape(inputsPerItem, outputs) : new Shape(outputs, inputsPerItem);
        var inputs = new List<string> { input, layer.Param(0, "weights", weightShape) };
        if (ip.BiasTerm)
        {
            inputs.Add(layer.Param(1, "bias", new Shape(outputs)));
        }

        layer.Emit("FullyConnected", inputs, 1, configure: a => a.Set("transpose", ip.Transpose ? 1L : 0L).Set("output_rank", 2L));
    }

    public static void Pooling(CaffeLayerContext layer)
    {
        var p = layer.P;
        var pp = p.PoolingParam ?? new PoolingParameter();
        var input = layer.Bottoms(1, 1)[0];
        layer.RequireImage(input);
        var op = pp.Pool switch
        {
            PoolingParameter.Types.PoolMethod.Max => "MaxPool",
            PoolingParameter.Types.PoolMethod.Ave => "AveragePool",
            _ => throw layer.UnsupportedOption(pp, "pool", $"pool: {pp.Pool.ToString().ToUpperInvariant()} (stochastic pooling) is not supported; MAX and AVE are."),
        };

        if (pp.GlobalPooling)
        {
            if (pp.HasKernelSize || pp.HasKernelH || pp.HasKernelW)
            {
                throw layer.Invalid(pp, "global_pooling", "with global_pooling the kernel is the whole input; do not give kernel_size (Caffe refuses it).");
            }

            if (pp.Pad != 0 || pp.PadH != 0 || pp.PadW != 0 || pp.Stride != 1 || (pp.HasStrideH && pp.StrideH != 1) || (pp.HasStrideW && pp.StrideW != 1))
            {
                throw layer.Invalid(pp, "global_pooling", "global pooling takes no padding and stride 1.");
            }

            layer.Emit(op == "MaxPool" ? "GlobalMaxPool" : "GlobalAveragePool", [input], 1);
            return;
        }

        long kh, kw;
        if (pp.HasKernelH || pp.HasKernelW)
        {
            if (pp.HasKernelSize || !(pp.HasKernelH && pp.HasKernelW))
            {
                throw layer.Invalid(pp, pp.HasKernelSize ? "kernel_size" : "kernel_h", "give either kernel_size or both kernel_h and kernel_w.");
            }

            (kh, kw) = (pp.KernelH, pp.KernelW);
        }
        else if (pp.HasKernelSize)
        {
            (kh, kw) = (pp.KernelSize, pp.KernelSize);
        }
        else
        {
            throw layer.Invalid(pp, "pool", "a Pooling layer needs kernel_size (or kernel_h and kernel_w) unless global_pooling is true.");
        }

        if (kh == 0 || kw == 0)
        {
            throw layer.Invalid(pp, "kernel_size", "the kernel must be positive.");
        }

        long ph = pp.Pad, pw = pp.Pad;
        if (pp.HasPadH || pp.HasPadW)
        {
            if (pp.HasPad)
            {
                throw layer.Invalid(pp, "pad", "give either pad or pad_h/pad_w, not both.");
            }

            (ph, pw) = (pp.PadH, pp.PadW);
        }

        long sh = pp.Stride, sw = pp.Stride;
        if (pp.HasStrideH || pp.HasStrideW)
        {
            if (pp.HasStride || !(pp.HasStrideH && pp.HasStrideW))
            {
                throw layer.Invalid(pp, pp.HasStride ? "stride" : "stride_h", "give either stride or both stride_h and stride_w.");
            }

            (sh, sw) = (pp.StrideH, pp.StrideW);
        }

        if (sh == 0 || sw == 0)
        {
            throw layer.Invalid(pp, "stride", "the stride must be positive.");
        }

        foreach (var (value, field) in new[] { (kh, pp.HasKernelH ? "kernel_h" : "kernel_size"), (kw, pp.HasKernelW ? "kernel_w" : "kernel_size"), (sh, pp.HasStrideH ? "stride_h" : "stride"), (sw, pp.HasStrideW ? "stride_w" : "stride") })
        {
            layer.AtMostExtent(pp, field, value);
        }

        if (kh * kw > ModelLimits.MaxElements)
        {
            throw layer.Invalid(pp, pp.HasKernelSize ? "kernel_size" : "kernel_h",
                $"the {kh}x{kw} window covers more than {ModelLimits.MaxElements:N0} (2^31 - 1) elements, NeuralBuild's limit for one tensor.");
        }

        if (ph >= kh || pw >= kw)
        {
            throw layer.Invalid(pp, "pad", $"padding {ph}x{pw} must be smaller than the kernel {kh}x{kw} (Caffe checks pad < kernel).");
        }

        var rounding = pp.RoundMode == PoolingParameter.Types.RoundMode.Floor ? "floor" : "ceil_caffe";
        layer.Emit(op, [input], 1, configure: a =>
        {
            a.Set("kernel_shape", [kh, kw])
             .Set("strides", [sh, sw])
             .Set("pads", [ph, pw, ph, pw])
             .Set("rounding", rounding);
            if (op == "AveragePool")
            {
                // Caffe divides by the window clipped to the padded input: padding counts, the
                // part of a rounded-up window beyond the padding does not.
                a.Set("count_include_pad", 1L);
            }
        });
    }
}
