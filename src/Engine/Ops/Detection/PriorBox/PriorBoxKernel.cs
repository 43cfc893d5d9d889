using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's PriorBox (prior_box_layer.cpp, CPU). For every position (h, w) of the feature map, centre
/// <c>((w + offset) * step_w, (h + offset) * step_h)</c> with the step given or image / feature size;
/// for every min_size: the square box of side min_size, then (with max_sizes) the square of side
/// sqrt(min * max), then one box per aspect ratio r ≠ 1 of width min*sqrt(r) and height min/sqrt(r).
/// Corners are divided by the image size and clipped to [0, 1] when <c>clip</c>. Channel 1 holds the
/// variances (one value for all four coordinates, or four).
/// </summary>
internal sealed class PriorBoxKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var feature = context.Input(0).Shape;
        var image = context.Input(1).Shape;
        var a = context.AttributesAs<PriorBoxAttributes>();
        var minSizes = a.MinSizes;
        var maxSizes = a.MaxSizes;
        var flip = a.Flip;
        var clip = a.Clip;
        var offset = (float)a.Offset;
        var variances = a.Variances;
        var ratios = new List<float> { 1f };
        foreach (var r in a.AspectRatios)
        {
            if (ratios.Any(existing => Math.Abs(r - existing) < 1e-6))
            {
                continue;
            }

            ratios.Add((float)r);
            if (flip)
            {
                ratios.Add(1f / (float)r);
            }
        }

        int layerH = checked((int)feature[2]), layerW = checked((int)feature[3]);
        float imageH = image[2], imageW = image[3];
        float stepH, stepW;
        if (a.Steps is { } steps)
        {
            (stepH, stepW) = ((float)steps[0], (float)steps[1]);
        }
        else
        {
            (stepH, stepW) = (imageH / layerH, imageW / layerW);
        }

        var dst = context.Output.Data;
        var half = dst.Length / 2;
        var k = 0;
        void Box(float cx, float cy, float w, float h)
        {
            dst[k++] = (cx - (w / 2f)) / imageW;
            dst[k++] = (cy - (h / 2f)) / imageH;
            dst[k++] = (cx + (w / 2f)) / imageW;
            dst[k++] = (cy + (h / 2f)) / imageH;
        }

        for (var h = 0; h < layerH; h++)
        {
            for (var w = 0; w < layerW; w++)
            {
                var cx = (w + offset) * stepW;
                var cy = (h + offset) * stepH;
                for (var s = 0; s < minSizes.Length; s++)
                {
                    var min = (float)minSizes[s];
                    Box(cx, cy, min, min);
                    if (maxSizes.Length > 0)
                    {
                        var side = (float)Math.Sqrt(min * (float)maxSizes[s]);
                        Box(cx, cy, side, side);
                    }

                    foreach (var r in ratios)
                    {
                        if (Math.Abs(r - 1f) < 1e-6)
                        {
                            continue;
                        }

                        var root = (float)Math.Sqrt(r);
                        Box(cx, cy, min * root, min / root);
                    }
                }
            }
        }

        if (k != half)
        {
            throw context.Error($"computed {k / 4} boxes but the output holds {half / 4}.");
        }

        if (clip)
        {
            for (var i = 0; i < half; i++)
            {
                dst[i] = Math.Clamp(dst[i], 0f, 1f);
            }
        }

        for (var i = 0; i < half; i++)
        {
            dst[half + i] = (float)(variances.Length == 1 ? variances[0] : variances[i % 4]);
        }
    }
}
