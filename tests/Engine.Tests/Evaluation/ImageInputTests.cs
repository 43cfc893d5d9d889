using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>Images written by PIL with known pixels, decoded, resized and normalised; every expected value worked out by hand in the test.</summary>
[TestClass]
public sealed class ImageInputTests
{
    private static readonly InputPreprocessing Plain = InputPreprocessing.Default;

    [TestMethod]
    public void A_png_is_normalised_per_channel_in_rgb_or_bgr_order()
    {
        using var temp = new TempDirectory();
        // 2 x 2: red, green / blue, white.
        PythonScript.Run(temp.Path, """
            from PIL import Image
            im = Image.new('RGB', (2, 2))
            im.putdata([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)])
            im.save('rgbw.png')
            """);
        var mean05std025 = InputPreprocessing.Parse("0.5", null, "0.25", "rgb", null, SourceLocation.None);

        var rgb = ImageInput.Read(temp.Combine("rgbw.png"), Shape.Nchw(1, 3, 2, 2), mean05std025);

        // (p - 0.5) / 0.25: 255 -> 2, 0 -> -2. Red plane: red 2, green -2, blue -2, white 2.
        CollectionAssert.AreEqual(new float[] { 2, -2, -2, 2, /* green */ -2, 2, -2, 2, /* blue */ -2, -2, 2, 2 }, rgb.Data);
        var bgr = ImageInput.Read(temp.Combine("rgbw.png"), Shape.Nchw(1, 3, 2, 2), mean05std025 with { Order = ChannelOrder.Bgr });
        CollectionAssert.AreEqual(new float[] { -2, -2, 2, 2, /* green */ -2, 2, -2, 2, /* red */ 2, -2, -2, 2 }, bgr.Data);

        // One mean per channel, pixels in [0, 1]: the red plane minus 0.25, the green minus 0.5, the blue minus 1, scale 2.
        var perChannel = ImageInput.Read(temp.Combine("rgbw.png"), Shape.Nchw(1, 3, 2, 2), InputPreprocessing.Parse("0.25,0.5,1", "2", null, null, null, SourceLocation.None));
        CollectionAssert.AreEqual(new float[] { 1.5f, -0.5f, -0.5f, 1.5f, -1, 1, -1, 1, -2, -2, 0, 0 }, perChannel.Data);
    }

    [TestMethod]
    public void Stretch_is_bilinear_with_half_pixel_centres_and_clamped_edges()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, """
            from PIL import Image
            im = Image.new('L', (2, 1))
            im.putdata([0, 255])
            im.save('ramp.png')
            """);

        var input = ImageInput.Read(temp.Combine("ramp.png"), Shape.Nchw(1, 1, 1, 4), Plain);

        // Output x reads source (x + 0.5) * 2 / 4 - 0.5: -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        CollectionAssert.AreEqual(new[] { 0f, 0.25f, 0.75f, 1f }, input.Data);
    }

    [TestMethod]
    public void Letterbox_keeps_the_aspect_ratio_and_fills_the_rest_with_grey()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, """
            from PIL import Image
            im = Image.new('L', (4, 2))
            im.putdata([255] * 8)
            im.save('wide.png')
            """);

        var input = ImageInput.Read(temp.Combine("wide.png"), Shape.Nchw(1, 1, 4, 4), Plain with { Resize = ResizeMode.Letterbox });

        // 4 x 2 into 4 x 4: width limits (4/4 < 4/2), height 2 * 4 / 4 = 2, centred: rows 1 and 2 white, rows 0 and 3 grey.
        CollectionAssert.AreEqual(new[] { 0.5f, 0.5f, 0.5f, 0.5f, 1, 1, 1, 1, 1, 1, 1, 1, 0.5f, 0.5f, 0.5f, 0.5f }, input.Data);
        var stretched = ImageInput.Read(temp.Combine("wide.png"), Shape.Nchw(1, 1, 4, 4), Plain);
        Assert.IsTrue(stretched.Data.All(v => v == 1), "stretched, every pixel is the image's");
    }

    [TestMethod]
    public void A_file_that_does_not_decode_is_NM0377_and_a_model_without_image_input_NM0378()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, """
            from PIL import Image
            Image.new('RGB', (64, 64), (10, 20, 30)).save('full.png')
            data = open('full.png', 'rb').read()
            open('truncated.png', 'wb').write(data[:len(data) // 2])
            open('text.png', 'w').write('not an image')
            """);
        var shape = Shape.Nchw(1, 3, 8, 8);

        var error = DiagnosticAssert.Throws(DiagnosticCodes.ImageUndecodable, () => ImageInput.Read(temp.Combine("text.png"), shape, Plain));
        Assert.AreEqual(temp.Combine("text.png"), error.Location.File);
        DiagnosticAssert.Throws(DiagnosticCodes.ImageUndecodable, () => ImageInput.Read(temp.Combine("truncated.png"), shape, Plain));
        DiagnosticAssert.Throws(DiagnosticCodes.EvaluationInputMismatch, () => ImageInput.Read(temp.Combine("full.png"), new Shape(1, 10), Plain));
        DiagnosticAssert.Throws(DiagnosticCodes.EvaluationInputMismatch, () => ImageInput.Read(temp.Combine("full.png"), shape, InputPreprocessing.Parse("0.1,0.2", null, null, null, null, SourceLocation.None)));
        // Decoded whole, the image is its colour everywhere: 10 / 255 in the red plane.
        Assert.AreEqual(10 / 255f, ImageInput.Read(temp.Combine("full.png"), shape, Plain).Data[0], 1e-7);
    }
}
