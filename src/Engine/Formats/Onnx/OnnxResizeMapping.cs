using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>Resize and Upsample in all their opset variants, as the IR's one Resize.</summary>
internal static class OnnxResizeMapping
{
    /// <summary>
    /// Resize (and Upsample) with the semantics of the model's opset made explicit: Upsample (opsets 7
    /// to 9) and Resize-10 have no coordinate attributes, and their nearest mode takes the input at
    /// <c>floor(o / scale)</c>, linear interpolates at <c>o / scale</c> (ONNX's test data for them:
    /// "asymmetric" with nearest_mode "floor"); from opset 11 the attributes say it. Combinations whose
    /// result the executor would not reproduce exactly are refused here.
    /// </summary>
    public static void Resize(OnnxNode n)
    {
        var x = n.Value(0);
        var rank = n.ShapeOf(x).Rank;
        var mode = n.Attr.String("mode", "nearest");
        var legacy = n.OpType == "Upsample" || n.Opset < 11;
        if (mode is not ("nearest" or "linear") && !(mode == "cubic" && !legacy))
        {
            throw n.Invalid($"mode '{mode}' is not one of nearest, linear{(legacy ? string.Empty : ", cubic")}");
        }

        var attributes = new Attributes().Set("mode", mode);
        string transform;
        if (legacy)
        {
            transform = "asymmetric";
            attributes.Set("coordinate_transformation_mode", transform).Set("nearest_mode", "floor");
        }
        else
        {
            transform = n.Attr.String("coordinate_transformation_mode", "half_pixel");
            if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
            {
                throw n.Invalid($"coordinate_transformation_mode '{transform}' is not supported");
            }

            var nearest = n.Attr.String("nearest_mode", "round_prefer_floor");
            if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
            {
                throw n.Invalid($"nearest_mode '{nearest}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil");
            }

            if (n.Attr.Flag("antialias", 0) != 0)
            {
                throw n.Invalid("antialias=1 is not supported");
            }

            if (n.Attr.String("keep_aspect_ratio_policy", "stretch") != "stretch")
            {
                throw n.Invalid($"keep_aspect_ratio_policy '{n.Attr.String("keep_aspect_ratio_policy", "stretch")}' is not supported");
            }

            attributes.Set("coordinate_transformation_mode", transform)
                .Set("nearest_mode", nearest)
                .Set("cubic_coeff_a", (double)n.Attr.Float("cubic_coeff_a", -0.75f))
                .Set("exclude_outside", n.Attr.Flag("exclude_outside", 0))
                .Set("extrapolation_value", (double)n.Attr.Float("extrapolation_value", 0f));
        }

        // Opset 18 `axes`: scales, sizes and roi name only those axes.
        var axes = n.Attr.Ints("axes")?.Select(a => OnnxNode.Norm(a, rank, clamp: false)).ToArray();
        if (axes is not null && (axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length))
        {
            throw n.Invalid($"axes [{string.Join(", ", axes)}] are not distinct axes of {n.ShapeOf(x)}");
        }

        double[]? scales = null;
        long[]? sizes = null;
        if (n.OpType == "Upsample" && n.Opset < 9)
        {
            scales = n.Attr.Floats("scales") ?? throw n.Invalid("scales are missing");
        }
        else
        {
            var scalesInput = n.OpType == "Upsample" || n.Opset < 11 ? 1 : 2;
            if (n.Has(scalesInput) && n.Const(scalesInput).Shape.ElementCount > 0)
            {
                scales = n.Doubles(scalesInput, "scales");
            }
            else if (n.Has(3))
            {
                sizes = n.Ints(3, "sizes");
            }
            else
            {
                throw n.Invalid("neither scales nor sizes are given");
            }
        }

        if (axes is not null)
        {
            var given = scales?.Length ?? sizes!.Length;
            if (given != axes.Length)
            {
                throw n.Invalid($"{given} scales or sizes for the {axes.Length} axes [{string.Join(", ", axes)}]");
            }

            if (scales is not null)
            {
                var full = Enumerable.Repeat(1.0, rank).ToArray();
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = scales[i];
                }

                scales = full;
            }
            else
            {
                var full = n.ShapeOf(x).Dims.ToArray();
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = sizes![i];
                }

                sizes = full;
            }
        }

        if (scales is not null && scales.Any(v => !(v > 0) || double.IsInfinity(v)))
        {
            throw n.Invalid($"scales [{string.Join(", ", scales)}] must be positive numbers");
        }

        if (legacy && mode == "nearest" && scales is not null && scales.Any(v => v < 1))
        {
            // ONNX gives no rule for these; ONNX Runtime rounds up when downsampling, the reference does not.
            throw n.Invalid($"{n.OpType} in nearest mode with scales below 1 ([{string.Join(", ", scales)}]) is not supported: opset {n.Opset} leaves its rounding unspecified");
        }

        if (transform == "tf_crop_and_resize")
        {
            if (sizes is null)
            {
                // The output size of tf_crop_and_resize with scales differs between ONNX's text (roi-scaled) and its reference.
                throw n.Invalid("tf_crop_and_resize with scales is not supported; give sizes");
            }

            var roi = n.Doubles(1, "roi");
            var count = axes?.Length ?? rank;
            if (roi.Length != 2 * count)
            {
                throw n.Invalid($"roi has {roi.Length} values; {2 * count} (a start and an end per axis) are needed");
            }

            if (axes is not null)
            {
                var full = Enumerable.Repeat(0.0, rank).Concat(Enumerable.Repeat(1.0, rank)).ToArray();
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = roi[i];
                    full[axes[i] + rank] = roi[i + axes.Length];
                }

                roi = full;
            }

            attributes.Set("roi", roi);
        }

        if (scales is not null)
        {
            attributes.Set("scales", scales);
        }
        else
        {
            attributes.Set("sizes", sizes!);
        }

        n.Emit("Resize", [x], attributes);
    }
}
