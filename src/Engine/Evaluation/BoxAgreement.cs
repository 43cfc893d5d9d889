using System.Globalization;

namespace NeuralBuild.Engine.Evaluation;

/// <summary>One detection: image of the batch, class label, score and corners (xmin, ymin, xmax, ymax).</summary>
public readonly record struct DetectedBox(int Image, int Label, float Score, float X0, float Y0, float X1, float Y1)
{
    /// <summary>Rows of SSD's DetectionOutput (image, label, score, xmin, ymin, xmax, ymax); rows with a negative image are padding.</summary>
    public static IReadOnlyList<DetectedBox> FromDetectionRows(ReadOnlySpan<float> rows)
    {
        var boxes = new List<DetectedBox>();
        for (var at = 0; at + 7 <= rows.Length; at += 7)
        {
            if (rows[at] >= 0)
            {
                boxes.Add(new DetectedBox((int)rows[at], (int)rows[at + 1], rows[at + 2], rows[at + 3], rows[at + 4], rows[at + 5], rows[at + 6]));
            }
        }

        return boxes;
    }

    /// <summary>Intersection over union (areas without Caffe's +1: normalised coordinates); 0 for disjoint or empty boxes.</summary>
    public static double Iou(DetectedBox a, DetectedBox b)
    {
        double w = Math.Min(a.X1, b.X1) - Math.Max(a.X0, b.X0), h = Math.Min(a.Y1, b.Y1) - Math.Max(a.Y0, b.Y0);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var intersection = w * h;
        var union = ((double)(a.X1 - a.X0) * (a.Y1 - a.Y0)) + ((double)(b.X1 - b.X0) * (b.Y1 - b.Y0)) - intersection;
        return union > 0 ? intersection / union : 0;
    }
}

/// <summary>
/// How many of the original's top boxes a lossy model still finds: per image, the original's
/// <see cref="TopBoxes"/> best boxes by score, each matched (best IoU first, each box of the other
/// model used once) to a box of the other model with the same class and an IoU of at least
/// <see cref="MinIou"/>. Agreement is matched / boxes; none when the original found no box.
/// </summary>
public sealed record BoxAgreement(string Subject, int Matched, int Boxes)
{
    public const double MinIou = 0.5;

    public const int TopBoxes = 20;

    public double? Agreement => Boxes == 0 ? null : (double)Matched / Boxes;

    public static BoxAgreement Measure(string subject, IReadOnlyList<DetectedBox> original, IReadOnlyList<DetectedBox> other)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(other);
        int matched = 0, boxes = 0;
        foreach (var image in original.GroupBy(b => b.Image))
        {
            // Stable: equal scores keep the original's order.
            var top = image.OrderByDescending(b => b.Score).Take(TopBoxes).ToList();
            var candidates = other.Where(b => b.Image == image.Key).ToList();
            var used = new bool[candidates.Count];
            boxes += top.Count;
            foreach (var box in top)
            {
                var best = -1;
                var bestIou = MinIou;
                for (var i = 0; i < candidates.Count; i++)
                {
                    var iou = used[i] || candidates[i].Label != box.Label ? -1 : DetectedBox.Iou(box, candidates[i]);
                    if (iou >= bestIou)
                    {
                        (best, bestIou) = (i, iou);
                    }
                }

                if (best >= 0)
                {
                    used[best] = true;
                    matched++;
                }
            }
        }

        return new BoxAgreement(subject, matched, boxes);
    }

    /// <summary>Several inputs' agreements of one detection head as one: the boxes of all inputs.</summary>
    public static BoxAgreement Combine(IReadOnlyList<BoxAgreement> parts) =>
        new(parts[0].Subject, parts.Sum(p => p.Matched), parts.Sum(p => p.Boxes));

    public override string ToString() => Agreement is { } share
        ? string.Create(CultureInfo.InvariantCulture, $"{Subject}: box agreement {share * 100:0.##}% ({Matched} of the original's {Boxes} top boxes found again: same class, IoU >= {MinIou})")
        : $"{Subject}: no box found by the original";
}
