using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.SyntheticWeights;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>dotnet neural convert … --to onnx</c> end to end, in its own process: the written file passes
/// ONNX's own checker, and the tool's two proofs ran (read back by NeuralBuild, run by ONNX Runtime)
/// on real corpus models with seeded weights.
/// </summary>
[TestClass]
public sealed class ConvertCommandTests
{
    private static string CorpusModel(TempDirectory temp, string relative, string weightsName)
    {
        var name = Path.GetFileName(relative);
        File.Copy(Path.Combine(TestPaths.RepoRoot, "corpus", relative), Path.Combine(temp.Path, name));
        var model = ModelFormats.Read(Path.Combine(temp.Path, name));
        var weights = Path.Combine(temp.Path, weightsName);
        _ = model.Format == "caffe"
            ? CaffeSyntheticWeights.Write(model, weights, new SyntheticWeightsOptions { Seed = 42 })
            : DarknetSyntheticWeights.Write(model, weights, new SyntheticWeightsOptions { Seed = 42 });
        return name;
    }

    [TestMethod]
    public void Yolov3_tiny_converts_to_an_onnx_file_that_onnx_runtime_proves_equal_to_the_darknet_model()
    {
        using var temp = new TempDirectory();
        var cfg = CorpusModel(temp, "darknet/yolov3-tiny.cfg", "yolov3-tiny.weights");

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var onnx = Path.Combine(temp.Path, "out", "yolov3-tiny.onnx");
        StringAssert.Contains(run.Stdout, $"written: {onnx} (ONNX opset 13)");
        StringAssert.Contains(run.Stdout, "| 23 | yolo | line 174 | Sigmoid ");
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"- written file read back: verification \(Model[^\n]*passed, 2 comparison"));
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"- runtime: verification \(Model[^\n]*passed, 2 comparison\(s\)[^\n]*ONNX Runtime 1\.32\.0 output"));
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(temp.Path, "out", "convert-report.md")));

        // ONNX's own checker, with its shape inference, independently of the tool; the BatchNorms are folded:
        // nothing divides (a BatchNorm is written as (x - mean) / sqrt(var + eps) * gamma + beta).
        var checkedOps = OnnxChecker.Check(onnx);
        StringAssert.Contains(checkedOps, "Conv");
        Assert.IsFalse(checkedOps.Contains("Div", StringComparison.Ordinal), checkedOps);
    }

    [TestMethod]
    public void No_fold_keeps_the_batch_normalization_in_the_onnx_file_as_its_arithmetic()
    {
        using var temp = new TempDirectory();
        var cfg = CorpusModel(temp, "darknet/yolov3-tiny.cfg", "yolov3-tiny.weights");

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--no-fold", "--opset", "17"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "## folded (0)");
        StringAssert.Contains(run.Stdout, "(ONNX opset 17)");
        StringAssert.Contains(OnnxChecker.Check(Path.Combine(temp.Path, "out", "yolov3-tiny.onnx")), "Div");
    }

    [TestMethod]
    public void Mobilenet_ssd_ends_at_the_inputs_of_detection_output_with_a_warning_and_onnx_runtime_agrees()
    {
        using var temp = new TempDirectory();
        var prototxt = CorpusModel(temp, "caffe/mobilenet_ssd.deploy.prototxt", "mobilenet_ssd.deploy.caffemodel");

        var run = ToolProcess.Run(temp.Path, ["convert", prototxt, "--to", "onnx", "-o", "out"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "warning NM2010");
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"- runtime: verification \(Model[^\n]*passed, 3 comparison\(s\)"));
        OnnxChecker.Check(Path.Combine(temp.Path, "out", "mobilenet_ssd.deploy.onnx"));
    }

    [TestMethod]
    public void A_format_nothing_exports_to_is_refused_naming_the_export_targets()
    {
        using var temp = new TempDirectory();
        var cfg = CorpusModel(temp, "darknet/yolov3-tiny.cfg", "yolov3-tiny.weights");

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "caffe", "-o", "out"]);

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM0002: 'caffe' is not a format NeuralBuild exports to; export targets: onnx.");
        Assert.IsFalse(Directory.Exists(Path.Combine(temp.Path, "out")) && Directory.EnumerateFileSystemEntries(Path.Combine(temp.Path, "out")).Any());
    }

    [TestMethod]
    public void An_opset_below_13_is_refused_and_nothing_is_written()
    {
        using var temp = new TempDirectory();
        var cfg = CorpusModel(temp, "darknet/yolov3-tiny.cfg", "yolov3-tiny.weights");

        var run = ToolProcess.Run(temp.Path, ["convert", cfg, "--to", "onnx", "-o", "out", "--opset", "11"]);

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM0300");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "out", "yolov3-tiny.onnx")));
    }

    [TestMethod]
    public void A_binary_convolution_converts_and_is_proven_by_onnx_runtime_though_neuralbuild_cannot_read_it_back()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "xnor.cfg"), """
            [net]
            width=16
            height=16
            channels=3

            [convolutional]
            filters=4
            size=3
            pad=1
            activation=leaky

            [convolutional]
            xnor=1
            filters=4
            size=3
            pad=1
            activation=linear
            """);
        DarknetSyntheticWeights.Write(ModelFormats.Read(Path.Combine(temp.Path, "xnor.cfg")), Path.Combine(temp.Path, "xnor.weights"));

        var run = ToolProcess.Run(temp.Path, ["convert", "xnor.cfg", "--to", "onnx", "-o", "out"]);

        // The binarised input is Where(x > 0, 1, -1): ONNX Runtime runs it, NeuralBuild's reader has no Where.
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "- written file read back: not possible: ");
        StringAssert.Contains(run.Stdout, "NM0202");
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"- runtime: verification \(Model[^\n]*passed"));
        StringAssert.Contains(OnnxChecker.Check(Path.Combine(temp.Path, "out", "xnor.onnx")), "Where");
    }

    [TestMethod]
    public void A_locally_connected_layer_is_refused_with_its_layer_and_line_and_nothing_is_written()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "local.cfg"), """
            [net]
            width=8
            height=8
            channels=3

            [local]
            filters=2
            size=3
            stride=1
            pad=0
            activation=leaky
            """);
        DarknetSyntheticWeights.Write(ModelFormats.Read(Path.Combine(temp.Path, "local.cfg")), Path.Combine(temp.Path, "local.weights"));

        var run = ToolProcess.Run(temp.Path, ["convert", "local.cfg", "--to", "onnx", "-o", "out"]);

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM0306");
        StringAssert.Contains(run.Stderr, "NM0303");
        StringAssert.Contains(run.Stderr, "local.cfg(6,1)");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "out", "local.onnx")));
    }
}
