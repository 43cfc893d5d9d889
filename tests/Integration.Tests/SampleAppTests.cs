using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using NeuralBuild.Engine.Formats;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Integration.Tests;

/// <summary>
/// samples/EmbeddedApp as run.sh builds and runs it, against the run's packed feed: the build folds,
/// checks the budgets, exports and embeds yolov3-tiny twice (folded, and unfused with Fold="false");
/// the app decodes the shipped test image with SkiaSharp, runs both exports with ONNX Runtime, prints
/// the boxes and writes detections.png.
/// </summary>
[TestClass]
public sealed partial class SampleAppTests
{
    [TestMethod]
    public void The_sample_app_detects_in_the_test_image_writes_detections_png_and_the_unfused_original_gives_the_same_boxes()
    {
        var s = new Scenario(PackedFeed.Instance, "sample");
        s.UseMachinePackages();
        s.UseNuGetOrg();
        var sample = Path.Combine(PackedFeed.RepoRoot, "samples", "EmbeddedApp");
        foreach (var file in Directory.GetFiles(sample).Where(f => Path.GetFileName(f) is not ("nuget.config" or "detections.png") && !f.EndsWith(".weights", StringComparison.Ordinal)))
        {
            File.Copy(file, s.Path_(Path.GetFileName(file)), overwrite: true);
        }

        // The weights the sample's own target generates (tools/SyntheticWeights, seed 42), made here:
        // written after the cfg, they leave that target up to date.
        var cfg = s.Path_("yolov3-tiny.cfg");
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 42 });

        var build = s.Build($"-p:NeuralBuildVersion={PackedFeed.Instance.Version}");

        Assert.IsTrue(build.Succeeded, build.ToString());
        foreach (var folder in new[] { "Yolov3Tiny", "Yolov3TinyUnfused" })
        {
            Assert.IsTrue(build.Lines.Any(l => l.Contains($"/neural/{folder}/ (", StringComparison.Ordinal) && l.Contains("exported yolov3-tiny.onnx (read back: max abs error", StringComparison.Ordinal)
                && l.Contains("ONNX Runtime 1.32.0: max abs error", StringComparison.Ordinal)), $"{folder}:\n{build}");
        }

        var output = s.Path_("detections.png");
        var run = s.Run("bin/Debug/net10.0/EmbeddedApp.dll", $"\"{s.Path_("test-image.png")}\" \"{output}\"");

        Assert.AreEqual(0, run.ExitCode, run.Output);
        // By hand: 480x320 into 416x416 scales by 416/480; 320 x 416/480 = 277.3 rows, (416 - 277) / 2 = 69 rows of border.
        StringAssert.Contains(run.Output, "image test-image.png 480x320, letterboxed to 416x416 (scale 0.867, borders 0/69 px)");
        var boxes = BoxLine().Matches(run.Output).Select(m => m.Groups.Cast<Group>().Skip(1).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.IsNotEmpty(boxes, run.Output);
        Assert.IsLessThanOrEqualTo(10, boxes.Count);
        foreach (var (b, i) in boxes.Select((b, i) => (b, i)))
        {
            var (cls, score, left, top, right, bottom) = (b[0], b[1], b[2], b[3], b[4], b[5]);
            Assert.IsTrue(cls is >= 0 and < 80 && score is >= 0.5 and <= 1, run.Output);
            Assert.IsTrue(left >= 0 && left < right && right <= 480 && top >= 0 && top < bottom && bottom <= 320, $"box {i} inside the 480x320 image:\n{run.Output}");
            Assert.IsTrue(i == 0 || boxes[i - 1][1] >= score, $"strongest first:\n{run.Output}");
        }

        var counts = Counts().Match(run.Output);
        Assert.IsTrue(counts.Success, run.Output);
        Assert.IsLessThanOrEqualTo(int.Parse(counts.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture), "non-maximum suppression keeps at most the candidates");
        var same = SameBoxes().Match(run.Output);
        Assert.IsTrue(same.Success, run.Output);
        Assert.IsLessThanOrEqualTo(1e-4, double.Parse(same.Groups[1].Value, CultureInfo.InvariantCulture), "score difference");

        var (width, height, pixels) = DecodePng(File.ReadAllBytes(output));
        Assert.AreEqual((480, 320), (width, height));
        Assert.IsGreaterThan(0, pixels);
    }

    /// <summary>A PNG read by hand: signature, IHDR, and the inflated IDAT stream's length against the size IHDR states (a row's filter byte and its pixels).</summary>
    private static (int Width, int Height, int Pixels) DecodePng(byte[] png)
    {
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var kind = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            if (kind == "IHDR")
            {
                (width, height) = (BinaryPrimitives.ReadInt32BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data[4..]));
                Assert.AreEqual(8, data[8], "8 bits per sample");
                channels = data[9] switch { 2 => 3, 6 => 4, 0 => 1, 4 => 2, _ => throw new AssertFailedException($"colour type {data[9]}") };
            }
            else if (kind == "IDAT")
            {
                idat.Write(data);
            }

            at += 12 + length;
        }

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        Assert.AreEqual((long)height * (1 + (width * channels)), inflated.Length, "every row: a filter byte and its pixels");
        return (width, height, width * height);
    }

    [GeneratedRegex(@"class\s+(\d+) score ([0-9.]+) box \((-?\d+),(-?\d+)\)-\((-?\d+),(-?\d+)\)")]
    private static partial Regex BoxLine();

    [GeneratedRegex(@"(\d+) boxes over the threshold 0\.5, (\d+) after non-maximum suppression")]
    private static partial Regex Counts();

    [GeneratedRegex(@"the same boxes: \d+ over the threshold in both, max score difference ([0-9.E+-]+)")]
    private static partial Regex SameBoxes();
}
