using System.Diagnostics;
using System.Globalization;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// An oracle for Caffe models independent of NeuralBuild: <c>caffe_torch_forward.py</c> (beside this
/// file) parses the prototxt and the caffemodel itself and runs the net layer by layer with
/// PyTorch's operators in float64, with Caffe's semantics (ceil-mode pooling, average pooling's
/// divisor at padded borders, LRN, BatchNorm's moving-average factor, Eltwise coefficients, PriorBox).
/// </summary>
internal static class CaffeTorchForward
{
    private static string Script => Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Formats", "Onnx", "Export", "caffe_torch_forward.py");

    /// <summary>The final values of <paramref name="blobs"/> when torch runs the net on <paramref name="input"/> of <paramref name="shape"/>.</summary>
    public static IReadOnlyList<float[]> Run(string prototxt, string caffemodel, float[] input, Shape shape, IReadOnlyList<string> blobs)
    {
        using var temp = new TempDirectory();
        var inputPath = temp.Combine("input.f32");
        using (var writer = new BinaryWriter(File.Create(inputPath)))
        {
            foreach (var value in input)
            {
                writer.Write(value);
            }
        }

        var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { Script, prototxt, caffemodel, inputPath, string.Join(',', shape.Dims.Select(d => d.ToString(CultureInfo.InvariantCulture))), temp.Path, string.Join(',', blobs) })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new AssertFailedException($"caffe_torch_forward.py failed on '{prototxt}':\n{stderr.Result}");
        }

        return [.. blobs.Select((_, i) =>
        {
            var bytes = File.ReadAllBytes(temp.Combine($"{i}.f32"));
            var values = new float[bytes.Length / sizeof(float)];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            return values;
        })];
    }
}
