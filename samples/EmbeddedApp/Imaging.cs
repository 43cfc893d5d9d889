using SkiaSharp;

namespace EmbeddedApp;

/// <summary>
/// Where an image sits inside the network's square input after letterboxing: scaled by
/// <paramref name="Scale"/> (aspect ratio kept) and centred, with <paramref name="PadX"/> and
/// <paramref name="PadY"/> input pixels of grey on either side, as darknet's letterbox_image.
/// </summary>
internal readonly record struct Letterbox(float Scale, float PadX, float PadY, int ImageWidth, int ImageHeight)
{
    /// <summary>A box in network input pixels (centre and size) as a rectangle of the original image, clipped to it.</summary>
    public SKRect ToImage(Detection d) => new(
        Math.Clamp((d.X - (d.Width / 2) - PadX) / Scale, 0, ImageWidth),
        Math.Clamp((d.Y - (d.Height / 2) - PadY) / Scale, 0, ImageHeight),
        Math.Clamp((d.X + (d.Width / 2) - PadX) / Scale, 0, ImageWidth),
        Math.Clamp((d.Y + (d.Height / 2) - PadY) / Scale, 0, ImageHeight));

    /// <summary>Whether the box lies wholly inside the image (not over its borders or the grey padding).</summary>
    public bool Contains(Detection d) =>
        d.X - (d.Width / 2) >= PadX && d.Y - (d.Height / 2) >= PadY
        && d.X + (d.Width / 2) <= PadX + (ImageWidth * Scale) && d.Y + (d.Height / 2) <= PadY + (ImageHeight * Scale);
}

/// <summary>The image side of the app, with SkiaSharp: decoding, letterboxing into the input tensor, drawing the boxes.</summary>
internal static class Imaging
{
    /// <summary>
    /// <paramref name="image"/> letterboxed into a <paramref name="width"/> x <paramref name="height"/>
    /// input (bilinear scaling, grey 0.5 padding) as the planar RGB floats in [0, 1] darknet's networks take (1 x 3 x H x W).
    /// </summary>
    public static (float[] Pixels, Letterbox Placement) ToInput(SKBitmap image, int width, int height)
    {
        var scale = Math.Min((float)width / image.Width, (float)height / image.Height);
        var (scaledWidth, scaledHeight) = ((int)MathF.Round(image.Width * scale), (int)MathF.Round(image.Height * scale));
        var (padX, padY) = ((width - scaledWidth) / 2, (height - scaledHeight) / 2);
        using var canvasBitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(canvasBitmap))
        {
            canvas.Clear(new SKColor(128, 128, 128));
            canvas.DrawBitmap(image, SKRect.Create(padX, padY, scaledWidth, scaledHeight), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None), null);
        }

        var rgba = canvasBitmap.GetPixelSpan();
        var plane = width * height;
        var pixels = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            pixels[i] = rgba[(4 * i) + 0] / 255f;
            pixels[plane + i] = rgba[(4 * i) + 1] / 255f;
            pixels[(2 * plane) + i] = rgba[(4 * i) + 2] / 255f;
        }

        return (pixels, new Letterbox(scale, padX, padY, image.Width, image.Height));
    }

    /// <summary>Draws each box on <paramref name="image"/> in a colour of its class and writes the image as PNG.</summary>
    public static void DrawAndSave(SKBitmap image, IEnumerable<(Detection Box, SKRect Rect)> boxes, string path)
    {
        using (var canvas = new SKCanvas(image))
        using (var paint = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 3, IsAntialias = true })
        {
            foreach (var (box, rect) in boxes)
            {
                paint.Color = SKColor.FromHsv(box.Class * 360f / 80, 90, 95);
                canvas.DrawRect(rect, paint);
            }
        }

        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        encoded.SaveTo(file);
    }
}
