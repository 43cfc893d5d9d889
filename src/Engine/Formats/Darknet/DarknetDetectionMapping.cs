using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>Detection heads: [yolo], [Gaussian_yolo], [region], [detection] and [contrastive].</summary>
internal static class DarknetDetectionMapping
{
    public static string Yolo(DarknetSection layer) => YoloHead(layer, "DarknetYolo");

    public static string GaussianYolo(DarknetSection layer) => YoloHead(layer, "DarknetGaussianYolo");

    public static string Region(DarknetSection layer)
    {
        var s = layer.Section;
        var num = s.Positive("num", 1);
        var sizes = AnchorSizes(s, mask: null, num);
        return layer.Emit("DarknetRegion", [layer.Input], a =>
        {
            a.Set("num", num)
                .Set("classes", s.NonNegative("classes", 20))
                .Set("coords", s.Positive("coords", 4))
                .Set("softmax", s.Int("softmax", 0))
                .Set("layout", layer.Dialect == DarknetDialect.AlexeyAB ? "boxes" : "planes");
            if (sizes is not null)
            {
                a.Set("anchor_sizes", sizes);
            }

            DarknetClassTree.SetGroups(a, s, "class_groups");
        });
    }

    public static string Detection(DarknetSection layer)
    {
        var s = layer.Section;
        return layer.Emit("DarknetDetection", [layer.Input], a => a
            .Set("num", s.Positive("num", 1))
            .Set("classes", s.NonNegative("classes", 1))
            .Set("coords", s.Positive("coords", 1))
            .Set("side", s.Positive("side", 7))
            .Set("sqrt", s.Int("sqrt", 0))
            .Set("softmax", s.Int("softmax", 0)));
    }

    public static string Contrastive(DarknetSection layer) => layer.Emit("DarknetContrastive", [layer.Input]);

    private static string YoloHead(DarknetSection layer, string op)
    {
        var s = layer.Section;
        var total = s.Positive("num", 1);
        var mask = s.IntList("mask");

        // Darknet indexes the anchors list with the mask without checking num (cspx-p7-mish.cfg
        // has num=16 with 20 anchors and mask=16,17,18,19), so the bound is the anchors given.
        var anchorPairs = s.Find("anchors") is { } anchors ? (anchors.Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Length / 2) : total;
        if (mask is not null && mask.Any(m => m < 0 || m >= Math.Max(anchorPairs, total)))
        {
            throw DiagnosticCodes.CfgInvalidValue.Exception(s.Find("mask")!.Location,
                $"layer {layer.Index} [{s.Type}] mask={s.Find("mask")!.Value} selects anchors beyond the {Math.Max(anchorPairs, total)} anchors given.");
        }

        var sizes = AnchorSizes(s, mask, total);
        return layer.Emit(op, [layer.Input], a =>
        {
            a.Set("anchors", mask?.Length ?? total)
                .Set("classes", s.NonNegative("classes", 20))
                .Set("new_coords", s.Int("new_coords", 0))
                .Set("scale_x_y", s.Float("scale_x_y", 1));
            if (sizes is not null)
            {
                a.Set("anchor_sizes", sizes);
            }
        });
    }

    /// <summary>
    /// The (width, height) of each anchor the head uses (its mask; [region]: in grid cells, [yolo]: in
    /// input pixels), from
    /// <c>anchors=</c>; null when the list does not hold them all or a value is not a number. Only
    /// decoding boxes needs them (box agreement), not the head's shape or cost, so such a cfg is read
    /// as before rather than refused.
    /// </summary>
    private static double[]? AnchorSizes(CfgSection s, long[]? mask, long total)
    {
        if (s.Find("anchors") is not { } option)
        {
            return null;
        }

        var parts = option.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                return null;
            }
        }

        // Every anchor used is checked against the list before anything is allocated for them.
        var count = mask?.Length ?? Math.Min(total, int.MaxValue);
        if (mask is null ? 2 * count > values.Length : mask.Any(m => m < 0 || (2 * m) + 1 >= values.Length))
        {
            return null;
        }

        var sizes = new double[2 * count];
        for (var i = 0; i < count; i++)
        {
            var m = mask?[i] ?? i;

            sizes[2 * i] = values[(int)(2 * m)];
            sizes[(2 * i) + 1] = values[(int)(2 * m) + 1];
        }

        return sizes;
    }
}
