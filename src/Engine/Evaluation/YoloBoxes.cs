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
    public static IReadOnlyList<DetectedBox> Decode(float[] output, int batch, int height, int width, DarknetYoloAttributes head, long networkWidth, long networkHeight) =>
        DecodeCells(output, batch, height, width, (int)head.Anchors, coords: 4, (int)head.Classes, (anchor, w, h) =>
        {
            var (scaleW, scaleH) = head.NewCoords ? (4 * w * w, 4 * h * h) : (MathF.Exp(w), MathF.Exp(h));
            return ((float)(scaleW * head.AnchorSizes[2 * anchor] / networkWidth), (float)(scaleH * head.AnchorSizes[(2 * anchor) + 1] / networkHeight));
        });

    /// <summary>
    /// The boxes of a [region] head's output in planes per entry (pjreddie's layout: x, y, w, h,
    /// objectness, classes): size <c>exp(w) · anchor_w / W</c> by <c>exp(h) · anchor_h / H</c>.
    /// </summary>
    public static IReadOnlyList<DetectedBox> DecodeRegion(float[] output, int batch, int height, int width, DarknetRegionAttributes head) =>
        DecodeCells(output, batch, height, width, (int)head.Num, (int)head.Coords, (int)head.Classes, (anchor, w, h) =>
            ((float)(MathF.Exp(w) * head.AnchorSizes[2 * anchor] / width), (float)(MathF.Exp(h) * head.AnchorSizes[(2 * anchor) + 1] / height)));

    /// <summary>
    /// One box per image, anchor and cell of a head laid out as planes per entry (x, y, w, h, the
    /// other coordinates, objectness, classes); <paramref name="size"/> turns an anchor's raw w and h
    /// into the box's width and height as fractions of the input.
    /// </summary>
    private static List<DetectedBox> DecodeCells(float[] output, int batch, int height, int width, int anchors, int coords, int classes,
        Func<int, float, float, (float Width, float Height)> size)
    {
        var entries = coords + 1 + classes;
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
                        for (var k = 0; k < classes; k++)
                        {
                            if (Entry(coords + 1 + k) > best)
                            {
                                (label, best) = (k, Entry(coords + 1 + k));
                            }
                        }

                        var x = (col + Entry(0)) / width;
                        var y = (row + Entry(1)) / height;
                        var (bw, bh) = size(anchor, Entry(2), Entry(3));
                        boxes.Add(new DetectedBox(image, label, Entry(coords) * best, x - (bw / 2), y - (bh / 2), x + (bw / 2), y + (bh / 2)));
                    }
                }
            }
        }

        return boxes;
    }
}
