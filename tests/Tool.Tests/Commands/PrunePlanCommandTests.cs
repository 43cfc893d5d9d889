using System.Text.Json;
using Google.Protobuf;
using NeuralBuild.Tool.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural prune-plan</c> end to end, in its own process.</summary>
[TestClass]
public sealed class PrunePlanCommandTests
{
    /// <summary>x (1x3x8x8) → Conv A 3→4 3x3 pad 1 → Relu → Conv Y 4→5 1x1 → y.</summary>
    private static string WriteModel(TempDirectory temp) => temp.Write("net.onnx", Model(13,
        [
            Node("Conv", "convA", ["x", "wA", "bA"], ["cA"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
            Node("Relu", "reluA", ["cA"], ["a"]),
            Node("Conv", "convY", ["a", "wY", "bY"], ["y"], Ints("kernel_shape", 1, 1)),
        ],
        [Random("wA", 3, -0.5, 0.5, 4, 3, 3, 3), Random("bA", 4, -0.5, 0.5, 4), Random("wY", 9, -0.5, 0.5, 5, 4, 1, 1), Random("bY", 10, -0.5, 0.5, 5)],
        outputs: "y").ToByteArray());

    [TestMethod]
    public void Json_plan_has_its_schema_version_and_the_pruned_model_is_written_beside_it()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);

        var run = ToolProcess.Run(temp.Path, ["prune-plan", "net.onnx", "--criterion", "l1", "--remove", "1", "--samples", "2", "--format", "json", "-o", "out"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual("l1", root.GetProperty("criterion").GetString());
        var layers = root.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("node").GetString()!);
        Assert.AreEqual(1, layers["convA"].GetProperty("remove").GetArrayLength());
        // By hand: convA loses a 3x3x3 filter and its bias at 8x8, convY one input column for 5 filters.
        Assert.AreEqual(27 + 1 + 5, layers["convA"].GetProperty("alone").GetProperty("paramsSaved").GetInt64());
        Assert.AreEqual((27 * 64) + (5 * 64), layers["convA"].GetProperty("alone").GetProperty("maccSaved").GetInt64());
        StringAssert.Contains(layers["convY"].GetProperty("refused").GetString(), "model output");
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(temp.Path, "out", "prune-plan.json")));
        var written = root.GetProperty("written").EnumerateArray().Single().GetString()!;
        Assert.IsTrue(File.Exists(written), written);
    }

    [TestMethod]
    public void Bad_options_are_coded_errors()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);

        foreach (var (arguments, code) in new (string[], string)[]
        {
            (["--remove", "1", "--fraction", "0.5"], "NM0380"),
            (["--fraction", "1"], "NM0380"),
            (["--criterion", "magic"], "NM0380"),
            (["--layers", "nope"], "NM0382"),
            (["--criterion", "bn-gamma", "--layers", "convA"], "NM0381"),
        })
        {
            var run = ToolProcess.Run(temp.Path, ["prune-plan", "net.onnx", .. arguments]);
            Assert.AreEqual(1, run.ExitCode, run.ToString());
            StringAssert.Contains(run.Stderr, $"error {code}", run.ToString());
            Assert.IsFalse(run.Stderr.Contains("   at ", StringComparison.Ordinal), run.ToString());
        }
    }
}
