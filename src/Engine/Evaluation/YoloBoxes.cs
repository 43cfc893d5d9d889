using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Evaluation;

/// <summary>
/// Boxes of a Darknet [yolo] head's output (darknet's get_yolo_box) and of a [region] head's
/// (get_region_box: the same, with the anchors in grid cells): per image, anchor and cell, the
/// centre <c>((col + x) / W, (row + y) / H)</c> of the grid, the size <c>exp(w) · anchor_w / net_w</c>
/// by <c>exp(h) · anchor_h / net_h</c> (with new_coords: <c>(2w)² · anchor_w / net_w</c>), the
/// class with the largest <c>objectness · p(class)</c> and that product as the score. Coordinates are
/// fractions of the network input, as DetectionOutput's are. No threshold and no suppression: the
/// agreement takes the best boxes of the original and looks for each in the other model's boxes.
/// </summary>
internal static class YoloBoxes
{
    /// <summary>The boxes of <paramref name="output"/> (N × anchors·(5 + classes) × H × W, planes per entry).</summary>
    public static IReadOnlyList<DetectedBox> Decode(float[] output, int batch, int height, int width, DarknetYoloAttributes head, long networkWidth, long networkHeight)
    {
        var anchors = (int)head.Anchors;
        var entries = 5 + (int)head.Classes;
        var plane = height * width;
        var boxes = new List<DetectedBox>(batch * anchors * plane);
        for (var image = 0; image < batch; image++)
        {
            for (var anchor = 0; anchor < anchors; anchor++)
            {
                var start = ((image * anchors) + anchor) * entries * plane;
                for (var row = 0; row < height; row++)
                {
                    for (var col = 0; col < width; col++)
                    {
                        var cell = start + (row * width) + col;
                        float Entry(int e) => output[cell + (e * plane)];
                        var objectness = Entry(4);
                        var (label, best) = (0, float.NegativeInfinity);
                        for (var k = 0; k < head.Classes; k++)
                        {
                            if (Entry(5 + k) > best)
                            {
                                (label, best) = (k, Entry(5 + k));
                            }
                        }

                        var (w, h) = head.NewCoords
                            ? (4 * Entry(2) * Entry(2), 4 * Entry(3) * Entry(3))
                            : (MathF.Exp(Entry(2)), MathF.Exp(Entry(3)));
                        var x = (col + Entry(0)) / width;
                        var y = (row + Entry(1)) / height;
                        var bw = (float)(w * head.AnchorSizes[2 * anchor] / networkWidth);
                        var bh = (float)(h * head.AnchorSizes[(2 * anchor) + 1] / networkHeight);
                        boxes.Add(new DetectedBox(image, label, objectness * best, x - (bw / 2), y - (bh / 2), x + (bw / 2), y + (bh / 2)));
                    }
                }
            }
        }

        return boxes;
    }

    /// <summary>
    /// The boxes of a [region] head's output in planes per entry (pjreddie's layout: x, y, w, h,
    /// objectness, classes): centre <c>((col + x) / W, (row + y) / H)</c>, size
    /// <c>exp(w) · anchor_w / W</c> by <c>exp(h) · anchor_h / H</c>, score objectness · p(class).
    /// </summary>
    public static IReadOnlyList<DetectedBox> DecodeRegion(float[] output, int batch, int height, int width, DarknetRegionAttributes head)
    {
        var anchors = (int)head.Num;
        var coords = (int)head.Coords;
        var entries = coords + 1 + (int)head.Classes;
        var plane = height * width;
        var boxes = new List<DetectedBox>(batch * anchors * plane);
        for (var image = 0; image < batch; image++)
        {
            for (var anchor = 0; anchor < anchors; anchor++)
            {
                var start = ((image * anchors) + anchor) * entries * plane;
                for (var row = 0; row < height; row++)
                {
                    for (var col = 0; col < width; col++)
                    {
                        var cell = start + (row * width) + col;
                        float Entry(int e) => output[cell + (e * plane)];
                        var (label, best) = (0, float.NegativeInfinity);
                        for (var k = 0; k < head.Classes; k++)
                        {
                            if (Entry(coords + 1 + k) > best)
                            {
                                (label, best) = (k, Entry(coords + 1 + k));
                            }
                        }

                        var x = (col + Entry(0)) / width;
                        var y = (row + Entry(1)) / height;
                        var bw = (float)(MathF.Exp(Entry(2)) * head.AnchorSizes[2 * anchor] / width);
                        var bh = (float)(MathF.Exp(Entry(3)) * head.AnchorSizes[(2 * anchor) + 1] / height);
                        boxes.Add(new DetectedBox(image, label, Entry(coords) * best, x - (bw / 2), y - (bh / 2), x + (bw / 2), y + (bh / 2)));
                    }
                }
            }
        }

        return boxes;
    }
}
