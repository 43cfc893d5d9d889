using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// BatchNorm, Scale, Bias, LRN and Normalize: per-channel statistics and learned factors.
/// </summary>
internal static class CaffeNormalizationMapping
{
    public static void BatchNorm(CaffeLayerContext layer)
    {
        var p = layer.P;
        var bn = p.BatchNormParam ?? new BatchNormParameter();
        var input = layer.Bottoms(1, 1)[0];
        var x = layer.ShapeOf(input);
        var channels = x.Rank > 1 ? x[1] : 1;

        // Blobs: mean and variance sums, and the moving-average factor that divides them
        // (docs/folding.md). The factor is folded into the statistics, not a parameter.
        var mean = layer.Param(0, "mean", new Shape(channels));
        var variance = layer.Param(1, "variance", new Shape(channels));
        layer.Layer.Blobs.Add(new CaffeBlobSlot(2, "moving_average_factor", null, new Shape(1)));
        var useGlobal = !bn.HasUseGlobalStats || bn.UseGlobalStats;
        layer.Emit("BatchNormalization", [input, string.Empty, string.Empty, mean, variance], 1, configure: a => a
            .Set("epsilon", (double)bn.Eps)
            .Set("epsilon_placement", "inside")
            .Set("use_global_stats", useGlobal ? 1L : 0L));
    }

    public static void ScaleLayer(CaffeLayerContext layer)
    {
        var s = layer.P.ScaleParam ?? new ScaleParameter();
        var (input, channels) = PerChannel(layer, s, s.Axis, s.NumAxes,
            "a Scale layer with two bottoms (the scale comes from a second blob) is not supported yet; only the learned per-channel scale is.");
        var inputs = new List<string> { input, layer.Param(0, "scale", new Shape(channels)) };
        if (s.BiasTerm)
        {
            inputs.Add(layer.Param(1, "bias", new Shape(channels)));
        }

        layer.Emit("ChannelAffine", inputs, 1);
    }

    public static void BiasLayer(CaffeLayerContext layer)
    {
        var b = layer.P.BiasParam ?? new BiasParameter();
        var (input, channels) = PerChannel(layer, b, b.Axis, b.NumAxes,
            "a Bias layer with two bottoms is not supported yet; only the learned per-channel bias is.");
        layer.Emit("ChannelAffine", [input, string.Empty, layer.Param(0, "bias", new Shape(channels))], 1);
    }

    /// <summary>
    /// The bottom of a Scale or Bias layer and its channel count: one learned value per channel is
    /// supported, not a factor read from a second bottom nor other axes.
    /// </summary>
    private static (string Input, long Channels) PerChannel(CaffeLayerContext layer, IMessage parameters, int axis, int numAxes, string twoBottomsRefusal)
    {
        var input = layer.Bottoms(1, 2)[0];
        if (layer.P.Bottom.Count == 2)
        {
            throw layer.UnsupportedOption(layer.Layer.Source, "bottom", 1, twoBottomsRefusal);
        }

        var x = layer.ShapeOf(input);
        if (axis != 1 || numAxes != 1 || x.Rank < 2)
        {
            throw layer.UnsupportedOption(parameters, axis != 1 ? "axis" : "num_axes",
                $"axis {axis} with num_axes {numAxes} on {x}: only one value per channel (axis 1, num_axes 1) is supported.");
        }

        return (input, x[1]);
    }

    public static void Lrn(CaffeLayerContext layer)
    {
        var l = layer.P.LrnParam ?? new LRNParameter();
        if (l.LocalSize == 0 || l.LocalSize % 2 == 0)
        {
            throw layer.Invalid(l, "local_size", $"local_size must be odd and positive (got {l.LocalSize}).");
        }

        layer.AtMostExtent(l, "local_size", l.LocalSize);

        layer.Unary("LRN", a => a
            .Set("size", (long)l.LocalSize)
            .Set("alpha", (double)l.Alpha)
            .Set("beta", (double)l.Beta)
            .Set("kappa", (double)l.K)
            .Set("region", l.NormRegion == LRNParameter.Types.NormRegion.WithinChannel ? "within_channel" : "across_channels"));
    }

    public static void NormalizeLayer(CaffeLayerContext layer)
    {
        var n = layer.P.NormParam ?? new NormalizeParameter();
        var input = layer.Bottoms(1, 1)[0];
        var x = layer.RequireImage(input);
        var scale = layer.Param(0, "scale", new Shape(n.ChannelShared ? 1 : x.C));
        layer.Emit("Normalize", [input, scale], 1, configure: a => a
            .Set("across_spatial", n.AcrossSpatial ? 1L : 0L)
            .Set("channel_shared", n.ChannelShared ? 1L : 0L)
            .Set("epsilon", (double)n.Eps));
    }
}
