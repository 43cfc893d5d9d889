using System.Text.Json;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural profile MODEL</c> end to end, in its own process; no time is asserted, only the shape of the answer.</summary>
[TestClass]
public sealed class ProfileCommandTests
{
    private static void WriteModel(TempDirectory temp) => ConvBatchNormRelu.Write(temp, "net.onnx");

    [TestMethod]
    public void Json_lists_each_layer_as_read_and_folded_with_totals_and_the_whole_forward_pass()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);

        var run = ToolProcess.Run(temp.Path, "profile", "net.onnx", "--runs", "3", "--warmup", "1", "--threads", "1", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual(3, root.GetProperty("runs").GetInt32());
        Assert.AreEqual(1, root.GetProperty("threads").GetInt32());
        CollectionAssert.AreEqual(new[] { "Conv", "BatchNormalization", "Activation" }, Ops(root));
        CollectionAssert.AreEqual(new[] { "tensor", "non-tensor", "non-tensor" }, root.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("category").GetString()).ToArray());
        var folded = root.GetProperty("folded");
        Assert.AreEqual(1, folded.GetProperty("foldsApplied").GetInt32());
        CollectionAssert.AreEqual(new[] { "Conv", "Activation" }, Ops(folded));
        foreach (var stage in new[] { root, folded })
        {
            var totals = stage.GetProperty("totals");
            var sum = stage.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("medianMs").GetDouble());
            Assert.AreEqual(sum, totals.GetProperty("totalMs").GetDouble(), 1e-9, "totalMs is the sum of the layers");
            Assert.AreEqual(sum, totals.GetProperty("tensorMs").GetDouble() + totals.GetProperty("nonTensorMs").GetDouble(), 1e-9);
            Assert.IsGreaterThan(0, totals.GetProperty("forwardPassMs").GetDouble());
            var coverage = totals.GetProperty("stepCoverage").GetDouble();
            Assert.IsTrue(coverage is > 0 and <= 1, $"each run's steps lie inside that run: {coverage}");
        }
    }

    private static string?[] Ops(JsonElement stage) => [.. stage.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("op").GetString())];

    [TestMethod]
    public void No_fold_profiles_the_model_as_read_only()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);

        var run = ToolProcess.Run(temp.Path, "profile", "net.onnx", "--runs", "1", "--no-fold", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.AreEqual(JsonValueKind.Null, json.RootElement.GetProperty("folded").ValueKind);
    }

    [TestMethod]
    [DataRow("--runs", "0", "error NM0330: --runs 0 must be between 1 and 10000.")]
    [DataRow("--warmup", "-1", "error NM0330: --warmup -1 must be between 0 and 10000.")]
    [DataRow("--threads", "0", "error NM0330: --threads 0 must be 1 or more.")]
    public void A_setting_no_measurement_can_use_is_NM0330_and_exit_1(string option, string value, string expected)
    {
        using var temp = new TempDirectory();
        WriteModel(temp);

        var run = ToolProcess.Run(temp.Path, "profile", "net.onnx", option, value);

        CommandRunnerTests.AssertOneErrorLine(run, "dotnet-neural: " + expected);
    }

    [TestMethod]
    public void Missing_weights_are_NM0001_naming_the_weights_file()
    {
        using var temp = new TempDirectory();
        temp.WriteText("m.cfg", "[net]\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\nfilters=4\nsize=1\n");

        var run = ToolProcess.Run(temp.Path, "profile", "m.cfg");

        CommandRunnerTests.AssertOneErrorLine(run, Path.Combine(temp.Path, "m.cfg") + ": error NM0001: Weights '" + Path.Combine(temp.Path, "m.weights") + "'");
    }

    [TestMethod]
    public void The_table_shows_the_batchnorm_row_as_read_and_its_kind_gone_after_folding()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);

        var run = ToolProcess.Run(temp.Path, "profile", "net.onnx", "--runs", "1", "--warmup", "0");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var lines = run.Stdout.Split('\n');
        var folded = Array.FindIndex(lines, l => l.StartsWith("folded (1 folds applied):", StringComparison.Ordinal));
        var byKind = Array.FindIndex(lines, l => l == "by kind:");
        Assert.IsGreaterThan(0, folded, run.Stdout);
        Assert.IsGreaterThan(folded, byKind, run.Stdout);
        Assert.AreEqual(1, lines[..folded].Count(l => l.Contains(" BatchNormalization ", StringComparison.Ordinal)), "one row as read");
        Assert.AreEqual(0, lines[folded..byKind].Count(l => l.Contains(" BatchNormalization ", StringComparison.Ordinal)), "none folded");
        // By kind: BatchNormalization had 1 layer as read and 0 folded, with no time.
        StringAssert.Matches(lines.Single(l => l.StartsWith("BatchNormalization ", StringComparison.Ordinal)), new System.Text.RegularExpressions.Regex(@"^BatchNormalization\s+non-tensor\s+1\s+[0-9.]+\s+[0-9.]+%\s+0\s+-\s+-$"));
        StringAssert.Contains(run.Stdout, "whole forward pass");
    }
}
