namespace EmbeddedApp;

/// <summary>A detected object: its class, score and box in input pixels (centre and size).</summary>
internal readonly record struct Detection(int Class, float Score, float X, float Y, float Width, float Height)
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
    /// A box is kept when objectness x class probability reaches <paramref name="threshold"/>.
    /// </summary>
    public static IEnumerable<Detection> Boxes(ReadOnlySpan<int> shape, float[] data, int classes, (float W, float H)[] anchors, int inputWidth, int inputHeight, float threshold)
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
                            MathF.Exp(At(3, cell)) * anchors[a].H));
                    }
                }
            }
        }

        return found;
    }

    /// <summary>Greedy non-maximum suppression per class: the strongest box first, dropping boxes of its class that overlap it by more than <paramref name="iou"/>.</summary>
    public static List<Detection> NonMaximumSuppression(IEnumerable<Detection> boxes, float iou)
    {
        var kept = new List<Detection>();
        foreach (var box in boxes.OrderByDescending(b => b.Score))
        {
            if (!kept.Any(k => k.Class == box.Class && k.IoU(box) > iou))
            {
                kept.Add(box);
            }
        }

        return kept;
    }
}
