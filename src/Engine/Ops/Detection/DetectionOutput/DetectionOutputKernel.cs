using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's DetectionOutput at inference (detection_output_layer.cpp, CPU), per image: decode every
/// prior's offsets (CENTER_SIZE, CORNER or CORNER_SIZE, scaled by the prior's variances unless
/// <c>variance_encoded_in_target</c>: the network then predicts offsets already scaled); for each
/// class but the background, keep the boxes scoring above <c>confidence_threshold</c>, the best
/// <c>top_k</c> of them by score (stable order), and run greedy NMS (a box is dropped when its
/// IoU with a kept box exceeds <c>nms_threshold</c>); then, when more than <c>keep_top_k</c> survive
/// over all classes, keep the best <c>keep_top_k</c> by score. Rows (image, label, score, xmin, ymin,
/// xmax, ymax), label by label in ascending order and by descending score within a label. Caffe's
/// output has exactly as many rows as detections; the IR shape is the upper bound, so the rows after
/// the last detection are filled with -1.
/// </summary>
internal sealed class DetectionOutputKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var loc = context.Input(0);
        var conf = context.Input(1).Data;
        var priors = context.Input(2).Data;
        var a = context.AttributesAs<DetectionOutputAttributes>();
        var classes = checked((int)a.NumClasses);
        var shareLocation = a.ShareLocation;
        var background = checked((int)a.BackgroundLabelId);
        var keepTopK = checked((int)a.KeepTopK);
        var topK = checked((int)a.TopK);
        var nmsThreshold = (float)a.NmsThreshold;
        var threshold = (float)a.ConfidenceThreshold;
        var codeType = a.CodeType;
        var varianceInTarget = a.VarianceEncodedInTarget;
        var batch = checked((int)loc.Shape[0]);
        var boxes = priors.Length / 8;
        var locClasses = shareLocation ? 1 : classes;
        var dst = context.Output.Data;
        Array.Fill(dst, -1f);
        var row = 0;
        for (var n = 0; n < batch; n++)
        {
            var decoded = new float[locClasses][];
            for (var lc = 0; lc < locClasses; lc++)
            {
                decoded[lc] = new float[boxes * 4];
                for (var p = 0; p < boxes; p++)
                {
                    var l = ((((n * boxes) + p) * locClasses) + lc) * 4;
                    Decode(codeType, varianceInTarget, priors, boxes, p, loc.Data.AsSpan(l, 4), decoded[lc].AsSpan(p * 4, 4));
                }
            }

            var kept = new List<(int Label, int Box, float Score)>();
            for (var c = 0; c < classes; c++)
            {
                if (c == background)
                {
                    continue;
                }

                var bboxes = decoded[shareLocation ? 0 : c];
                var candidates = Enumerable.Range(0, boxes)
                    .Select(p => (Box: p, Score: conf[(((n * boxes) + p) * classes) + c]))
                    .Where(s => s.Score > threshold)
                    .OrderByDescending(s => s.Score)
                    .ToList();
                if (topK > -1 && candidates.Count > topK)
                {
                    candidates.RemoveRange(topK, candidates.Count - topK);
                }

                var selected = new List<int>();
                foreach (var (box, score) in candidates)
                {
                    var keep = true;
                    foreach (var other in selected)
                    {
                        if (Iou(bboxes.AsSpan(box * 4, 4), bboxes.AsSpan(other * 4, 4)) > nmsThreshold)
                        {
                            keep = false;
                            break;
                        }
                    }

                    if (keep)
                    {
                        selected.Add(box);
                        kept.Add((c, box, score));
                    }
                }
            }

            if (keepTopK > -1 && kept.Count > keepTopK)
            {
                kept = [.. kept.OrderByDescending(k => k.Score).Take(keepTopK)];
                kept = [.. kept.OrderBy(k => k.Label)];
            }

            foreach (var (label, box, score) in kept)
            {
                if ((row + 1) * 7 > dst.Length)
                {
                    throw context.Error($"more detections than the {dst.Length / 7} rows of the output.");
                }

                var b = decoded[shareLocation ? 0 : label].AsSpan(box * 4, 4);
                var o = row * 7;
                dst[o] = n;
                dst[o + 1] = label;
                dst[o + 2] = score;
                b.CopyTo(dst.AsSpan(o + 3, 4));
                row++;
            }
        }
    }

    private static readonly float[] s_unitVariance = [1f, 1f, 1f, 1f];

    private static void Decode(string codeType, bool varianceInTarget, float[] priors, int boxes, int p, ReadOnlySpan<float> l, Span<float> box)
    {
        var prior = priors.AsSpan(p * 4, 4);
        ReadOnlySpan<float> v = varianceInTarget ? s_unitVariance : priors.AsSpan((boxes * 4) + (p * 4), 4);
        float pw = prior[2] - prior[0], ph = prior[3] - prior[1];
        switch (codeType)
        {
            case "Corner":
                for (var i = 0; i < 4; i++)
                {
                    box[i] = prior[i] + (v[i] * l[i]);
                }

                break;
            case "CornerSize":
                box[0] = prior[0] + (v[0] * l[0] * pw);
                box[1] = prior[1] + (v[1] * l[1] * ph);
                box[2] = prior[2] + (v[2] * l[2] * pw);
                box[3] = prior[3] + (v[3] * l[3] * ph);
                break;
            default:
                var pcx = (prior[0] + prior[2]) / 2f;
                var pcy = (prior[1] + prior[3]) / 2f;
                var cx = (v[0] * l[0] * pw) + pcx;
                var cy = (v[1] * l[1] * ph) + pcy;
                var w = (float)Math.Exp(v[2] * l[2]) * pw;
                var h = (float)Math.Exp(v[3] * l[3]) * ph;
                box[0] = cx - (w / 2f);
                box[1] = cy - (h / 2f);
                box[2] = cx + (w / 2f);
                box[3] = cy + (h / 2f);
                break;
        }
    }

    /// <summary>Intersection over union of normalised boxes (no +1 on widths); 0 when disjoint.</summary>
    private static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b[0] > a[2] || b[2] < a[0] || b[1] > a[3] || b[3] < a[1])
        {
            return 0f;
        }

        var iw = Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]);
        var ih = Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]);
        var inter = iw * ih;
        var union = Size(a) + Size(b) - inter;
        return union > 0 ? inter / union : 0f;
    }

    private static float Size(ReadOnlySpan<float> b) =>
        b[2] < b[0] || b[3] < b[1] ? 0f : (b[2] - b[0]) * (b[3] - b[1]);
}
