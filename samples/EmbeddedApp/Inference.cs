namespace EmbeddedApp;

/// <summary>Reading a darknet [yolo] head's output, as darknet's forward leaves it.</summary>
internal static class Inference
{
    /// <summary>
    /// The strongest detections of one [yolo] head (shape 1 x C x H x W): per anchor the channels are
    /// x, y, w, h, objectness, then one score per class (x, y, objectness and classes already through
    /// the logistic, as darknet's forward leaves them). Score = objectness x best class probability.
    /// </summary>
    public static IEnumerable<(float Score, int Class, int Anchor, int Row, int Column)> TopDetections(ReadOnlySpan<int> shape, float[] data, int classes, int count)
    {
        var (channels, height, width) = (shape[1], shape[2], shape[3]);
        var plane = height * width;
        var anchors = channels / (classes + 5);
        var found = new List<(float, int, int, int, int)>();
        for (var a = 0; a < anchors; a++)
        {
            var baseChannel = a * (classes + 5);
            for (var cell = 0; cell < plane; cell++)
            {
                var objectness = data[((baseChannel + 4) * plane) + cell];
                var (best, bestClass) = (0f, 0);
                for (var c = 0; c < classes; c++)
                {
                    var p = data[((baseChannel + 5 + c) * plane) + cell];
                    if (p > best)
                    {
                        (best, bestClass) = (p, c);
                    }
                }

                found.Add((objectness * best, bestClass, a, cell / width, cell % width));
            }
        }

        return found.OrderByDescending(d => d.Item1).Take(count);
    }
}
