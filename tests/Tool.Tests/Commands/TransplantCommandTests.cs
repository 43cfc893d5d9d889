using System.Text.Json;
using Google.Protobuf;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Tool.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural transplant</c> end to end, in its own process.</summary>
[TestClass]
public sealed class TransplantCommandTests
{
    /// <summary>A conv named as the old model's and a BatchNorm renamed 'bn2', with values of its own.</summary>
    private static string Changed(TempDirectory temp)
    {
        var model = TinyOnnx.Model(
            13,
            [
                Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                Node("BatchNormalization", "bn2", ["c", "gamma", "beta", "mean", "var"], ["b"]),
                Node("Relu", "relu", ["b"], ["y"]),
            ],
            [
                Random("w", 11, -0.5, 0.5, 4, 3, 3, 3),
                Random("gamma", 12, 0.5, 1.5, 4),
                Random("beta", 13, -0.2, 0.2, 4),
                Random("mean", 14, -0.3, 0.3, 4),
                Random("var", 15, 0.5, 2, 4),
            ]);
        model.Graph.Output[0] = Value("y", [1, 4, 8, 8]);
        return temp.Write("changed.onnx", model.ToByteArray());
    }

    [TestMethod]
    public void Json_reports_each_layer_and_the_written_model_holds_the_old_conv()
    {
        using var temp = new TempDirectory();
        var old = ConvBatchNormRelu.Write(temp, "old.onnx");
        var changed = Changed(temp);

        var run = ToolProcess.Run(temp.Path, "transplant", "--from", "old.onnx", "--to", "changed.onnx", "--output", "out", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        var outcomes = root.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("outcome").GetString());
        Assert.AreEqual("copied", outcomes["conv"]);
        Assert.AreEqual("taken from the new weights", outcomes["bn2"]);
        CollectionAssert.AreEqual(new[] { "bn" }, root.GetProperty("unusedOldLayers").EnumerateArray().Select(e => e.GetString()).ToList());
        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "out", "transplant-report.json")));

        var written = ModelFormats.Read(Path.Combine(temp.Path, "out", "changed.onnx")).Graph.Initializers;
        var before = ModelFormats.Read(old).Graph.Initializers;
        var own = ModelFormats.Read(changed).Graph.Initializers;
        CollectionAssert.AreEqual(before["w"].Data!.ToArray(), written["w"].Data!.ToArray());
        CollectionAssert.AreEqual(own["gamma"].Data!.ToArray(), written["gamma"].Data!.ToArray());
    }

    [TestMethod]
    public void A_malformed_map_is_NM0370_at_its_line_and_exit_1()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "old.onnx");
        Changed(temp);
        temp.WriteText("map.txt", "# new old\nbn2\n");

        var run = ToolProcess.Run(temp.Path, "transplant", "--from", "old.onnx", "--to", "changed.onnx", "--output", "out", "--map", "map.txt");

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        Assert.StartsWith(Path.Combine(temp.Path, "map.txt") + "(2,1): error NM0370: 'bn2' names 1 layer", run.StderrLines.Single());
        Assert.IsFalse(Directory.Exists(Path.Combine(temp.Path, "out")) && Directory.EnumerateFileSystemEntries(Path.Combine(temp.Path, "out")).Any());
    }

    [TestMethod]
    public void A_weights_file_for_a_model_that_holds_its_own_is_NM0374()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "old.onnx");
        Changed(temp);

        var run = ToolProcess.Run(temp.Path, "transplant", "--from", "old.onnx", "--to", "changed.onnx", "--to-weights", "changed.onnx.weights", "--output", "out");

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        Assert.StartsWith(Path.Combine(temp.Path, "changed.onnx.weights") + ": error NM0374: 'changed.onnx' keeps its weights in itself", run.StderrLines.Single());
    }
}
