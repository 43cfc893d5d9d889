namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// PriorBox and DetectionOutput, the SSD layers.
/// </summary>
internal static class CaffeDetectionMapping
{
    public static void PriorBoxLayer(CaffeLayerContext layer)
    {
        var pb = layer.P.PriorBoxParam ?? throw layer.Invalid("type", "a PriorBox layer needs prior_box_param { min_size … }.");
        var inputs = layer.Bottoms(2, 2);
        layer.RequireImage(inputs[0]);
        layer.RequireImage(inputs[1]);
        if (pb.MinSize.Count == 0 || pb.MinSize.Any(m => m <= 0))
        {
            throw layer.Invalid(pb, "min_size", "PriorBox needs at least one positive min_size.");
        }

        if (pb.MaxSize.Count > 0 && (pb.MaxSize.Count != pb.MinSize.Count || pb.MaxSize.Zip(pb.MinSize).Any(m => m.First <= m.Second)))
        {
            throw layer.Invalid(pb, "max_size", "max_size must be given once per min_size and be larger than it.");
        }

        if (pb.Variance.Count is not (0 or 1 or 4))
        {
            throw layer.Invalid(pb, "variance", $"give 1 or 4 variance values (got {pb.Variance.Count}).");
        }

        layer.Emit("PriorBox", inputs, 1, configure: a =>
        {
            a.Set("min_sizes", pb.MinSize.Select(v => (double)v).ToArray())
             .Set("aspect_ratios", pb.AspectRatio.Select(v => (double)v).ToArray())
             .Set("flip", pb.Flip ? 1L : 0L)
             .Set("clip", pb.Clip ? 1L : 0L)
             .Set("variances", pb.Variance.Count > 0 ? pb.Variance.Select(v => (double)v).ToArray() : [0.1])
             .Set("offset", (double)pb.Offset);
            if (pb.MaxSize.Count > 0)
            {
                a.Set("max_sizes", pb.MaxSize.Select(v => (double)v).ToArray());
            }

            if (pb.HasStep || pb.HasStepH)
            {
                a.Set("steps", [(double)(pb.HasStep ? pb.Step : pb.StepH), (double)(pb.HasStep ? pb.Step : pb.StepW)]);
            }
        });
    }

    public static void DetectionOutputLayer(CaffeLayerContext layer)
    {
        var d = layer.P.DetectionOutputParam ?? throw layer.Invalid("type", "a DetectionOutput layer needs detection_output_param { num_classes … }.");
        if (!d.HasNumClasses || d.NumClasses == 0)
        {
            throw layer.Invalid(d, "num_classes", "num_classes must be given and positive.");
        }

        layer.AtMostExtent(d, "num_classes", d.NumClasses);
        if (d.BackgroundLabelId < -1 || d.BackgroundLabelId >= d.NumClasses)
        {
            throw layer.Invalid(d, "background_label_id", $"background_label_id {d.BackgroundLabelId} is not one of the {d.NumClasses} classes (or -1 for none).");
        }

        if (d.KeepTopK < -1)
        {
            throw layer.Invalid(d, "keep_top_k", $"keep_top_k {d.KeepTopK} must be -1 (keep all) or a count.");
        }

        if (d.NmsParam is { HasTopK: true, TopK: < -1 } nmsTopK)
        {
            throw layer.Invalid(nmsTopK, "top_k", $"top_k {nmsTopK.TopK} must be -1 (all) or a count.");
        }

        layer.Emit("DetectionOutput", layer.Bottoms(3, 3), 1, configure: a => a
            .Set("num_classes", (long)d.NumClasses)
            .Set("share_location", d.ShareLocation ? 1L : 0L)
            .Set("background_label_id", (long)d.BackgroundLabelId)
            .Set("keep_top_k", (long)d.KeepTopK)
            .Set("nms_threshold", (double)(d.NmsParam?.NmsThreshold ?? 0.3f))
            .Set("top_k", (long)(d.NmsParam is { HasTopK: true } nms ? nms.TopK : -1))
            .Set("confidence_threshold", (double)d.ConfidenceThreshold)
            .Set("code_type", d.CodeType.ToString())
            .Set("variance_encoded_in_target", d.VarianceEncodedInTarget ? 1L : 0L));
    }
}
