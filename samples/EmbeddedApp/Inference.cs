namespace EmbeddedApp;

/// <summary>
/// A detected object: its class, score and box in input pixels (centre and size), and
/// <paramref name="Place"/>, where in the heads it was decoded (head, anchor, cell: the same for any
/// model of the same heads).
/// </summary>
internal readonly record struct Detection(int Class, float Score, float X, float Y, float Width, float Height, int Place)
{
    /// <summary>Intersection over union of two boxes.</summary>
    public float IoU(Detection other)
    {
        var w = Math.Min(X + (Width / 2), other.X + (other.Width / 2)) - Math.Max(X - (Width / 2), other.X - (other.Width / 2));
        var h = Math.Min(Y + (Height / 2), other.Y + (other.Height / 2)) - Math.Max(Y - (Height / 2), other.Y - (other.Height / 2));
        var intersection = Math.Max(w, 0) * Math.Max(h, 0);
        var union = (Width * Height) + (other.Width * other.Height) - intersection;
        return union > 0 ? intersection / union : 0;
    }
}

/// <summary>Decoding darknet [yolo] heads, as darknet's forward leaves them, into boxes.</summary>
internal static class Inference
{
    /// <summary>
    /// The boxes of one [yolo] head (1 x C x H x W). Per anchor the channels are x, y, w, h, objectness,
    /// then one probability per class; x, y, objectness and classes are already through the logistic,
    /// w and h are not (darknet's get_yolo_box): centre = (cell + x) / grid, size = anchor x exp(w).
    /// A box is kept when objectness x class probability reaches <paramref name="threshold"/>; its
    /// place is <paramref name="firstPlace"/> + anchor x H x W + cell.
    /// </summary>
    public static IEnumerable<Detection> Boxes(ReadOnlySpan<int> shape, float[] data, int classes, (float W, float H)[] anchors, int inputWidth, int inputHeight, float threshold, int firstPlace)
    {
        var (height, width) = (shape[2], shape[3]);
        var plane = height * width;
        var found = new List<Detection>();
        for (var a = 0; a < anchors.Length; a++)
        {
            var channel = a * (classes + 5);
            float At(int entry, int cell) => data[((channel + entry) * plane) + cell];
            for (var cell = 0; cell < plane; cell++)
            {
                var (row, column) = (cell / width, cell % width);
                for (var c = 0; c < classes; c++)
                {
                    var score = At(4, cell) * At(5 + c, cell);
                    if (score >= threshold)
                    {
                        found.Add(new Detection(
                            c,
                            score,
                            (column + At(0, cell)) / width * inputWidth,
                            (row + At(1, cell)) / height * inputHeight,
                            MathF.Exp(At(2, cell)) * anchors[a].W,
                            MathF.Exp(At(3, cell)) * anchors[a].H,
                            firstPlace + (a * plane) + cell));
                    }
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Greedy non-maximum suppression per class, as darknet's do_nms_sort: within each class the
    /// strongest box first, dropping the boxes that overlap a kept one by more than <paramref name="iou"/>.
    /// The result is ordered by score, strongest first (equal scores in the order found).
    /// </summary>
    public static List<Detection> NonMaximumSuppression(IEnumerable<Detection> boxes, float iou)
    {
        var kept = new List<Detection>();
        foreach (var sameClass in boxes.GroupBy(b => b.Class))
        {
            var keptOfClass = new List<Detection>();
            foreach (var box in sameClass.OrderByDescending(b => b.Score))
            {
                if (!keptOfClass.Any(k => k.IoU(box) > iou))
                {
                    keptOfClass.Add(box);
                }
            }

            kept.AddRange(keptOfClass);
        }

        return [.. kept.OrderByDescending(b => b.Score).ThenBy(b => b.Place)];
    }

    /// <summary>The largest |a - b| over all heads, relative to the largest |b| (b: the reference's heads).</summary>
    public static double MaxRelativeDifference(IReadOnlyList<float[]> heads, IReadOnlyList<float[]> reference)
    {
        double largest = 0, difference = 0;
        for (var h = 0; h < reference.Count; h++)
        {
            for (var i = 0; i < reference[h].Length; i++)
            {
                largest = Math.Max(largest, Math.Abs(reference[h][i]));
                difference = Math.Max(difference, Math.Abs(heads[h][i] - reference[h][i]));
            }
        }

        return largest > 0 ? difference / largest : difference;
    }

    /// <summary>
    /// Two models' boxes over the threshold compared place by place (the same head, anchor, cell and
    /// class): how many have no counterpart (not counting those within <paramref name="borderline"/>
    /// of <paramref name="threshold"/>, which float32 rounding may put on either side), and the
    /// largest differences of score and of coordinates (relative to the box's size) among the rest.
    /// Candidates rather than the boxes non-maximum suppression keeps: greedy suppression of nearly
    /// equal overlapping boxes turns a rounding difference into a different survivor.
    /// </summary>
    public static (int Unmatched, int Borderline, double MaxScore, double MaxCoordinate) Compare(
        IReadOnlyList<Detection> a, IReadOnlyList<Detection> b, float threshold, float borderline)
    {
        var byPlace = b.ToDictionary(d => (d.Place, d.Class));
        var (unmatched, near, maxScore, maxCoordinate) = (0, 0, 0.0, 0.0);
        foreach (var box in a)
        {
            if (!byPlace.Remove((box.Place, box.Class), out var other))
            {
                _ = Math.Abs(box.Score - threshold) <= borderline ? near++ : unmatched++;
                continue;
            }

            var size = Math.Max(Math.Max(box.Width, box.Height), 1);
            maxScore = Math.Max(maxScore, Math.Abs(box.Score - other.Score));
            maxCoordinate = Math.Max(maxCoordinate, new[] { box.X - other.X, box.Y - other.Y, box.Width - other.Width, box.Height - other.Height }.Max(Math.Abs) / size);
        }

        foreach (var box in byPlace.Values)
        {
            _ = Math.Abs(box.Score - threshold) <= borderline ? near++ : unmatched++;
        }

        return (unmatched, near, maxScore, maxCoordinate);
    }
}
