using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Layers that read earlier layers or move values about: [route], [shortcut], [scale_channels]/[sam],
/// [upsample], [reorg] and [crop].
/// </summary>
internal static class DarknetRoutingMapping
{
    public static string Route(DarknetSection layer)
    {
        var s = layer.Section;
        var option = s.Find("layers") ?? throw DiagnosticCodes.CfgInvalidValue.Exception(s.Location, $"layer {layer.Index} [route] needs layers=.");
        var indices = s.IntList("layers")!;
        var groups = s.Positive("groups", 1);
        if (s.Find("group_id") is { } groupId && s.NonNegative("group_id", 0) >= groups)
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(groupId.Location,
                $"layer {layer.Index} [route] group_id={groupId.Value} must be less than groups={groups}.");
        }

        var inputs = indices.Select(i => layer.ResolveRelative(i, option).Output).ToList();
        if (groups > 1 && inputs.Select(layer.ShapeOf).FirstOrDefault(x => x.Rank == 4 && x.C % groups != 0) is { } undivided)
        {
            throw DiagnosticCodes.ShapeMismatch.Exception(s.Find("groups")!.Location,
                $"layer {layer.Index} [route] groups={groups} does not divide the {undivided.C} channels of {undivided}; each input is split into groups of equal size.");
        }

        return layer.Emit("Concat", inputs, a => a
            .Set("axis", 1L)
            .Set("groups", s.Positive("groups", 1))
            .Set("group_id", s.NonNegative("group_id", 0)));
    }

    public static string Shortcut(DarknetSection layer)
    {
        var s = layer.Section;
        var input = layer.Input;
        var (option, indices) = From(layer);
        var from = indices.Select(i => layer.ResolveRelative(i, option)).ToList();
        var inputs = new List<string> { input };
        inputs.AddRange(from.Select(l => l.Output));
        var weightsType = s.String("weights_type", "none");
        var c = layer.InputShape.C;
        long weightCount = weightsType switch
        {
            "none" => 0,
            "per_feature" or "per_layer" => from.Count + 1,
            "per_channel" => Checked.Mul(from.Count + 1, c),
            _ => throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("weights_type")!.Location,
                $"weights_type={weightsType} is not one of none, per_feature, per_channel."),
        };
        if (weightCount > 0)
        {
            inputs.Add(layer.Weight("weights", new Shape(weightCount), order: 0));
        }

        var prefix = layer.Prefix;
        Node node;
        if (from.Count == 1 && weightCount == 0 && layer.InputShape.Equals(layer.ShapeOf(from[0].Output)))
        {
            // The common residual: one unweighted layer of the same shape, added as darknet adds
            // (output = input, then += from): the canonical element-wise Add.
            node = new Node($"{prefix}/shortcut", "Arithmetic", inputs, [$"{prefix}/shortcut"], layer.Layer.Origin);
            node.Attributes.Set("operation", "add");
        }
        else
        {
            node = new Node($"{prefix}/shortcut", "Shortcut", inputs, [$"{prefix}/shortcut"], layer.Layer.Origin);
            node.Attributes.Set("from_count", (long)from.Count).Set("weights_type", weightsType)
                .Set("weights_normalization", s.String("weights_normalization", "none"))
                .Set("size_mismatch", layer.Dialect == DarknetDialect.Pjreddie ? "strided" : "flat");
        }

        return layer.ActivateAsConfigured(layer.Add(node), "linear");
    }

    /// <summary>[scale_channels] and [sam]: the layer's input times the output of the layer from= names.</summary>
    public static string MultiplyFrom(DarknetSection layer)
    {
        var (option, indices) = From(layer);
        var from = layer.ResolveRelative(indices[0], option);
        var prefix = layer.Prefix;
        // [sam] multiplies equal shapes, [scale_channels] a (N, C, 1, 1) or, with scale_wh, a
        // (N, 1, H, W) scale: both are the broadcasting product.
        var node = new Node($"{prefix}/mul", "Arithmetic", [from.Output, layer.Input], [$"{prefix}/mul"], layer.Layer.Origin);
        node.Attributes.Set("operation", "mul");
        return layer.ActivateAsConfigured(layer.Add(node), "linear");
    }

    /// <summary>
    /// [upsample] with a positive stride and scale 1 copies each pixel stride x stride times: exactly
    /// a nearest Resize with asymmetric coordinates rounded down. Darknet's reverse (a negative
    /// stride, which sums each block) and a scale other than 1 stay darknet's own Upsample.
    /// </summary>
    public static string Upsample(DarknetSection layer)
    {
        var s = layer.Section;
        var stride = UpsampleStride(s);
        var scale = s.Float("scale", 1);
        return stride > 0 && scale == 1
            ? layer.Emit("Resize", [layer.Input], a => a
                .Set("scales", new double[] { 1, 1, stride, stride })
                .Set("mode", "nearest")
                .Set("coordinate_transformation_mode", "asymmetric")
                .Set("nearest_mode", "floor"))
            : layer.Emit("Upsample", [layer.Input], a => a.Set("stride", stride).Set("scale", scale));
    }

    public static string Reorg(DarknetSection layer)
    {
        var s = layer.Section;
        return layer.Emit("Reorg", [layer.Input], a => a
            .Set("stride", s.Positive("stride", 1))
            .Set("reverse", s.Int("reverse", 0))
            .Set("extra", s.NonNegative("extra", 0))
            .Set("flavor", s.Type));
    }

    public static string Crop(DarknetSection layer)
    {
        var s = layer.Section;
        return layer.Emit("DarknetCrop", [layer.Input], a => a
            .Set("crop_height", s.Positive("crop_height", 1))
            .Set("crop_width", s.Positive("crop_width", 1))
            .Set("noadjust", s.Int("noadjust", 0)));
    }

    /// <summary>[upsample] stride: positive enlarges, negative shrinks by that factor (darknet's reverse), 0 means nothing.</summary>
    private static long UpsampleStride(CfgSection s)
    {
        var stride = s.Int("stride", 2, -ModelLimits.MaxExtent, ModelLimits.MaxExtent);
        return stride != 0
            ? stride
            : throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("stride")!.Location,
                "[upsample] stride=0 must not be 0: a positive stride enlarges the image, a negative one shrinks it.");
    }

    /// <summary>The required from= option and the layer indices it lists.</summary>
    private static (CfgOption Option, long[] Indices) From(DarknetSection layer)
    {
        var s = layer.Section;
        var option = s.Find("from") ?? throw DiagnosticCodes.CfgInvalidValue.Exception(s.Location, $"layer {layer.Index} [{s.Type}] needs from=.");
        return (option, s.IntList("from")!);
    }
}
