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
        DecodeCells(output, batch, height, width, (int)head.Anchors, BoxEntries.Planes(coords: 4, (int)head.Classes), (anchor, w, h) =>
        {
            var (scaleW, scaleH) = head.NewCoords ? (4 * w * w, 4 * h * h) : (MathF.Exp(w), MathF.Exp(h));
            return ((float)(scaleW * head.AnchorSizes[2 * anchor] / networkWidth), (float)(scaleH * head.AnchorSizes[(2 * anchor) + 1] / networkHeight));
        });

    /// <summary>
    /// The boxes of a [Gaussian_yolo] head's output (AlexeyAB's get_gaussian_yolo_box and
    /// get_gaussian_yolo_detections): planes per entry, each coordinate followed by its uncertainty
    /// (x, σx, y, σy, w, σw, h, σh), then the objectness and the classes; the score is
    /// <c>objectness · p(class) · (1 − mean of the four uncertainties)</c>.
    /// </summary>
    public static IReadOnlyList<DetectedBox> DecodeGaussian(float[] output, int batch, int height, int width, DarknetYoloAttributes head, long networkWidth, long networkHeight) =>
        DecodeCells(output, batch, height, width, (int)head.Anchors, BoxEntries.GaussianPlanes((int)head.Classes), (anchor, w, h) =>
            ((float)(MathF.Exp(w) * head.AnchorSizes[2 * anchor] / networkWidth), (float)(MathF.Exp(h) * head.AnchorSizes[(2 * anchor) + 1] / networkHeight)));

    /// <summary>
    /// The boxes of a [region] head's output: size <c>exp(w) · anchor_w / W</c> by
    /// <c>exp(h) · anchor_h / H</c>. pjreddie's layout keeps planes per entry (x, y, w, h, objectness,
    /// classes, x and y already through the logistic); AlexeyAB's keeps one record per cell and anchor
    /// with x and y raw, which its get_region_box passes through the logistic.
    /// </summary>
    public static IReadOnlyList<DetectedBox> DecodeRegion(float[] output, int batch, int height, int width, DarknetRegionAttributes head) =>
        DecodeCells(output, batch, height, width, (int)head.Num,
            head.BoxesLayout ? BoxEntries.PerBox((int)head.Coords, (int)head.Classes) : BoxEntries.Planes((int)head.Coords, (int)head.Classes), (anchor, w, h) =>
            ((float)(MathF.Exp(w) * head.AnchorSizes[2 * anchor] / width), (float)(MathF.Exp(h) * head.AnchorSizes[(2 * anchor) + 1] / height)));

    /// <summary>
    /// Where a head keeps a box's values: the entries of x, y, w, h, the objectness, the first class
    /// and the uncertainties (none but Gaussian yolo's), how many entries a box has, whether a box's
    /// entries are side by side (records, cell-major then anchor) or one plane each per anchor, and
    /// whether x and y are still raw.
    /// </summary>
    private sealed record BoxEntries(int Entries, int X, int Y, int W, int H, int Objectness, int FirstClass, int[] Uncertainties, bool SideBySide, bool RawCentre)
    {
        public static BoxEntries Planes(int coords, int classes) => new(coords + 1 + classes, 0, 1, 2, 3, coords, coords + 1, [], SideBySide: false, RawCentre: false);

        public static BoxEntries PerBox(int coords, int classes) => new(coords + 1 + classes, 0, 1, 2, 3, coords, coords + 1, [], SideBySide: true, RawCentre: true);

        public static BoxEntries GaussianPlanes(int classes) => new(9 + classes, 0, 2, 4, 6, 8, 9, [1, 3, 5, 7], SideBySide: false, RawCentre: false);
    }

    /// <summary>
    /// One box per image, anchor and cell; <paramref name="size"/> turns an anchor's raw w and h into
    /// the box's width and height as fractions of the input.
    /// </summary>
    private static List<DetectedBox> DecodeCells(float[] output, int batch, int height, int width, int anchors, BoxEntries layout,
        Func<int, float, float, (float Width, float Height)> size)
    {
        var plane = height * width;
        var perImage = anchors * layout.Entries * plane;
        var classes = layout.Entries - layout.FirstClass;
        var boxes = new List<DetectedBox>(batch * anchors * plane);
        for (var image = 0; image < batch; image++)
        {
            for (var anchor = 0; anchor < anchors; anchor++)
            {
                for (var row = 0; row < height; row++)
                {
                    for (var col = 0; col < width; col++)
                    {
                        var cell = (row * width) + col;
                        var first = layout.SideBySide
                            ? (image * perImage) + (((cell * anchors) + anchor) * layout.Entries)
                            : (image * perImage) + (anchor * layout.Entries * plane) + cell;
                        var stride = layout.SideBySide ? 1 : plane;
                        float Entry(int e) => output[first + (e * stride)];
                        var (label, best) = (0, float.NegativeInfinity);
                        for (var k = 0; k < classes; k++)
                        {
                            if (Entry(layout.FirstClass + k) > best)
                            {
                                (label, best) = (k, Entry(layout.FirstClass + k));
                            }
                        }

                        var (cx, cy) = layout.RawCentre ? (Logistic(Entry(layout.X)), Logistic(Entry(layout.Y))) : (Entry(layout.X), Entry(layout.Y));
                        var x = (col + cx) / width;
                        var y = (row + cy) / height;
                        var (bw, bh) = size(anchor, Entry(layout.W), Entry(layout.H));
                        var certainty = layout.Uncertainties.Length == 0 ? 1f : 1f - (layout.Uncertainties.Sum(Entry) / layout.Uncertainties.Length);
                        boxes.Add(new DetectedBox(image, label, Entry(layout.Objectness) * best * certainty, x - (bw / 2), y - (bh / 2), x + (bw / 2), y + (bh / 2)));
                    }
                }
            }
        }

        return boxes;
    }

    private static float Logistic(float x) => 1f / (1f + MathF.Exp(-x));
}
