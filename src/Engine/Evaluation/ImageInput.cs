using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using StbImageSharp;

namespace NeuralBuild.Engine.Evaluation;

/// <summary>
/// One image file (PNG, JPEG, BMP, TGA, GIF's first frame, PSD, HDR: what StbImageSharp, a managed
/// port of stb_image, decodes) as a model input of shape 1 x C x H x W, C 1 (grey) or 3, made as
/// <see cref="InputPreprocessing"/> says. The image's stated size is read and checked before its
/// pixels are decoded; a file that does not decode is NM0377.
/// </summary>
public static class ImageInput
{
    /// <summary>The most pixels an evaluation image may have (a 16k x 16k photo); more is refused before decoding.</summary>
    private const long MaxPixels = 16384L * 16384;

    /// <summary>The letterbox's fill, in [0, 1] pixel units (Darknet's).</summary>
    private const float LetterboxFill = 0.5f;

    public static Tensor Read(string path, Shape modelInput, InputPreprocessing preprocessing)
    {
        var where = new SourceLocation(path);
        if (modelInput.Rank != 4 || modelInput[0] != 1 || modelInput[1] is not (1 or 3))
        {
            throw DiagnosticCodes.EvaluationInputMismatch.Exception(where,
                $"an image becomes a 1 x C x H x W input with 1 or 3 channels, but the model's input is {modelInput}: give .npy tensors of its shape (or an input shape of batch 1).");
        }

        preprocessing.RequireChannels(modelInput[1], where);
        var bytes = FileFailures.Reading(path, () => File.ReadAllBytes(path));
        var (width, height, channels, pixels) = Decode(bytes, grey: modelInput[1] == 1, where);
        var (outW, outH) = ((int)modelInput[3], (int)modelInput[2]);
        var plane = new float[channels][];
        for (var c = 0; c < channels; c++)
        {
            plane[c] = preprocessing.Resize == ResizeMode.Letterbox
                ? Letterbox(pixels, width, height, channels, c, outW, outH)
                : Bilinear(pixels, width, height, channels, c, outW, outH);
        }

        var data = new float[Checked.Mul(channels, outW, outH)];
        var area = outW * outH;
        for (var c = 0; c < channels; c++)
        {
            // The model's channel c is the image's channel c (RGB), or counted from the end (BGR).
            var source = preprocessing.Order == ChannelOrder.Bgr && channels == 3 ? plane[2 - c] : plane[c];
            float mean = InputPreprocessing.For(preprocessing.Mean, c), scale = InputPreprocessing.For(preprocessing.Scale, c);
            for (var i = 0; i < area; i++)
            {
                data[(c * area) + i] = (source[i] - mean) * scale;
            }
        }

        return new Tensor(modelInput.WithDim(0, 1), data);
    }

    private static (int Width, int Height, int Channels, byte[] Pixels) Decode(byte[] bytes, bool grey, SourceLocation where)
    {
        try
        {
            using (var header = new MemoryStream(bytes, writable: false))
            {
                var info = ImageInfo.FromStream(header);
                if (info is not { } i)
                {
                    throw DiagnosticCodes.ImageUndecodable.Exception(where, "not an image StbImageSharp decodes (PNG, JPEG, BMP, TGA, GIF, PSD, HDR).");
                }

                if (i.Width <= 0 || i.Height <= 0 || (long)i.Width * i.Height > MaxPixels)
                {
                    throw DiagnosticCodes.ImageUndecodable.Exception(where, $"the image states {i.Width} x {i.Height} pixels; at most {MaxPixels} pixels are read.");
                }
            }

            var image = ImageResult.FromMemory(bytes, grey ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
            return (image.Width, image.Height, grey ? 1 : 3, image.Data);
        }
        catch (Exception e) when (e is not NeuralException and not OutOfMemoryException)
        {
            // stb_image reports a corrupt file by throwing (a truncated PNG, a bad Huffman table).
            throw DiagnosticCodes.ImageUndecodable.Exception(where, $"the image does not decode: {e.Message}");
        }
    }

    /// <summary>
    /// Channel <paramref name="c"/> resized to <paramref name="outW"/> x <paramref name="outH"/>, in [0, 1]:
    /// the source coordinate of output x is <c>(x + 0.5) * inW / outW - 0.5</c>, clamped at the edges.
    /// </summary>
    internal static float[] Bilinear(byte[] pixels, int inW, int inH, int channels, int c, int outW, int outH)
    {
        var result = new float[outW * outH];
        for (var y = 0; y < outH; y++)
        {
            var (y0, y1, fy) = Source(y, inH, outH);
            for (var x = 0; x < outW; x++)
            {
                var (x0, x1, fx) = Source(x, inW, outW);
                float At(int sy, int sx) => pixels[(((sy * inW) + sx) * channels) + c] / 255f;
                var top = (At(y0, x0) * (1 - fx)) + (At(y0, x1) * fx);
                var bottom = (At(y1, x0) * (1 - fx)) + (At(y1, x1) * fx);
                result[(y * outW) + x] = (top * (1 - fy)) + (bottom * fy);
            }
        }

        return result;
    }

    private static (int Low, int High, float Fraction) Source(int at, int inSize, int outSize)
    {
        var s = Math.Clamp(((at + 0.5) * inSize / outSize) - 0.5, 0, inSize - 1);
        var low = (int)Math.Floor(s);
        return (low, Math.Min(low + 1, inSize - 1), (float)(s - low));
    }

    /// <summary>Darknet's letterbox_image: the side that limits keeps the output's size, the other is scaled (integer division, as Darknet does) and centred.</summary>
    internal static float[] Letterbox(byte[] pixels, int inW, int inH, int channels, int c, int outW, int outH)
    {
        int newW, newH;
        if ((double)outW / inW < (double)outH / inH)
        {
            newW = outW;
            newH = (int)((long)inH * outW / inW);
        }
        else
        {
            newH = outH;
            newW = (int)((long)inW * outH / inH);
        }

        newW = Math.Max(newW, 1);
        newH = Math.Max(newH, 1);
        var inner = Bilinear(pixels, inW, inH, channels, c, newW, newH);
        var result = new float[outW * outH];
        Array.Fill(result, LetterboxFill);
        int dx = (outW - newW) / 2, dy = (outH - newH) / 2;
        for (var y = 0; y < newH; y++)
        {
            Array.Copy(inner, y * newW, result, ((y + dy) * outW) + dx, newW);
        }

        return result;
    }
}
