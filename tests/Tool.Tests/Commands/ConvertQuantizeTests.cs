using System.Text.RegularExpressions;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.SyntheticWeights;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>dotnet neural convert … --to onnx --quantize int8|fp16</c> in its own process: the written file is
/// a quarter (half) of the float one, passes ONNX's checker, and its output error is measured by the
/// read-back and by ONNX Runtime; <c>--max-output-error</c> fails it with NM1010 and exit 2.
/// </summary>
[TestClass]
public sealed partial class ConvertQuantizeTests
{
    private static string Yolov3Tiny(TempDirectory temp)
    {
        File.Copy(Path.Combine(TestPaths.RepoRoot, "corpus", "darknet", "yolov3-tiny.cfg"), Path.Combine(temp.Path, "yolov3-tiny.cfg"));
        DarknetSyntheticWeights.Write(ModelFormats.Read(Path.Combine(temp.Path, "yolov3-tiny.cfg")), Path.Combine(temp.Path, "yolov3-tiny.weights"), new SyntheticWeightsOptions { Seed = 42 });
        return "yolov3-tiny.cfg";
    }

    [TestMethod]
    public void Int8_writes_a_quarter_of_the_float_file_and_reports_bytes_per_layer_and_the_measured_error()
    {
        using var temp = new TempDirectory();
        var cfg = Yolov3Tiny(temp);

        var float32 = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "float"]);
        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--quantize", "int8", "--max-output-error", "50%"]);

        Assert.AreEqual(0, float32.ExitCode, float32.ToString());
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var onnx = Path.Combine(temp.Path, "out", "yolov3-tiny.onnx");
        var ratio = (double)new FileInfo(onnx).Length / new FileInfo(Path.Combine(temp.Path, "float", "yolov3-tiny.onnx")).Length;
        Assert.IsLessThanOrEqualTo(0.27, ratio);
        StringAssert.Contains(run.Stdout, "(ONNX opset 13, weights int8 per channel)");
        StringAssert.Contains(run.Stdout, "## quantized weights");
        // The 3x3 conv of 512 filters on 256 channels: float32 weights = 4,718,592 bytes; int8 values plus a float scale and an int8 zero point per channel.
        StringAssert.Contains(run.Stdout, $"| 4,718,592 | {1_179_648 + (512 * 5):N0} |");
        StringAssert.Matches(run.Stdout, ReadBack());
        StringAssert.Matches(run.Stdout, Runtime());
        StringAssert.Contains(OnnxChecker.Check(onnx), "DequantizeLinear");
    }

    [TestMethod]
    public void Fp16_writes_half_of_the_float_weights_and_reads_back_its_largest_tensors()
    {
        using var temp = new TempDirectory();
        var cfg = Yolov3Tiny(temp);

        // The 3x3 conv of 1024 filters has 4,718,592 weights: its float16 tensor and Cast are read back as one constant.
        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--quantize", "fp16", "--max-output-error", "0.5%"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "(ONNX opset 13, weights float16)");
        StringAssert.Contains(run.Stdout, "| 18,874,368 | 9,437,184 | 0.5 |");
        var weightsBytes = new FileInfo(Path.Combine(temp.Path, "yolov3-tiny.weights")).Length;
        Assert.IsLessThanOrEqualTo(0.52, (double)new FileInfo(Path.Combine(temp.Path, "out", "yolov3-tiny.onnx")).Length / weightsBytes);
        StringAssert.Contains(OnnxChecker.Check(Path.Combine(temp.Path, "out", "yolov3-tiny.onnx")), "Cast");
    }

    [TestMethod]
    public void A_tiny_budget_fails_with_NM1010_exit_2_and_nothing_written()
    {
        using var temp = new TempDirectory();
        var cfg = Yolov3Tiny(temp);

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--quantize", "int8", "--max-output-error", "0.0001%"]);

        Assert.AreEqual(2, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM1010: the quantized export's output error exceeds MaxOutputError=0.0001%");
        StringAssert.Contains(run.Stderr, "Layers contributing most (each quantized alone): layer ");
        // Located at the layer that contributes most: a [convolutional] section header of the cfg, the first layer named.
        var located = System.Text.RegularExpressions.Regex.Match(run.Stderr, @"yolov3-tiny\.cfg\((\d+),1\): error NM1010");
        Assert.IsTrue(located.Success, run.Stderr);
        var line = int.Parse(located.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.AreEqual("[convolutional]", File.ReadAllLines(Path.Combine(temp.Path, cfg))[line - 1].Trim());
        StringAssert.Contains(run.Stderr, $" line {line}: ");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "out", "yolov3-tiny.onnx")));
    }

    [TestMethod]
    public void A_format_that_stores_only_float_weights_is_NM0341_pointing_at_onnx()
    {
        using var temp = new TempDirectory();
        var cfg = Yolov3Tiny(temp);

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "darknet", "-o", "out", "--quantize", "int8"]);

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM0341");
        StringAssert.Contains(run.Stderr, "convert --to onnx --quantize int8");
    }

    [TestMethod]
    public void A_budget_without_a_percent_sign_is_NM0343()
    {
        using var temp = new TempDirectory();
        var cfg = Yolov3Tiny(temp);

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--quantize", "fp16", "--max-output-error", "2"]);

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM0343");
    }

    [TestMethod]
    public void Int8_static_quantizes_the_layer_inputs_measures_them_in_onnx_runtime_and_a_format_without_them_is_NM0341()
    {
        using var temp = new TempDirectory();
        var cfg = Yolov3Tiny(temp);

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--quantize", "int8-static", "--max-output-error", "50%"]);
        var overBudget = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "tiny-budget", "--quantize", "int8-static", "--max-output-error", "0.0001%"]);
        var darknet = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "darknet", "-o", "dn", "--quantize", "int8-static"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        // yolov3-tiny: 13 conv layers, each with its input and its output through a calibrated pair, except the
        // outputs of the two head convs, which the [yolo] layers read (they stay float): 24 values.
        StringAssert.Contains(run.Stdout, "(ONNX opset 13, weights int8 per channel, 24 activations uint8 per tensor (calibrated))");
        StringAssert.Matches(run.Stdout, Runtime());
        StringAssert.Contains(OnnxChecker.Check(Path.Combine(temp.Path, "out", "yolov3-tiny.onnx")), "QuantizeLinear");
        Assert.AreEqual(2, overBudget.ExitCode, overBudget.ToString());
        StringAssert.Contains(overBudget.Stderr, "error NM1010");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "tiny-budget", "yolov3-tiny.onnx")));
        Assert.AreEqual(1, darknet.ExitCode, darknet.ToString());
        StringAssert.Contains(darknet.Stderr, "error NM0341");
    }

    [GeneratedRegex(@"- written file read back: measured \(lossy export[^\n]*within MaxOutputError=50%[^\n]*max rel error [0-9.]+%, mean rel error")]
    private static partial Regex ReadBack();

    [GeneratedRegex(@"- runtime: measured \(lossy export[^\n]*ONNX Runtime 1\.32\.0 output [^\n]*max rel error [0-9.]+%")]
    private static partial Regex Runtime();
}
