using System.Text.Json;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>--format json</c> of check, verify, baseline accept, fuse and convert: a <c>schemaVersion</c> first, the figures, the verdict.</summary>
[TestClass]
public sealed class JsonFormatTests
{
    // The model: Conv 3 -> 4 channels, 3x3, pad 1, on 8x8; optimised, its BatchNorm folds into the conv.
    // MACC = 3*3*3 * 4 * 8*8; params = 4*3*3*3 weights + 4 biases the fold adds.
    private const long Macc = 3 * 3 * 3 * 4 * 8 * 8;
    private const long Params = (4 * 3 * 3 * 3) + 4;

    private static JsonElement Parse(ToolRun run)
    {
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement.Clone();
        Assert.AreEqual("schemaVersion", root.EnumerateObject().First().Name, "schemaVersion comes first, as inspect's");
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        return root;
    }

    [TestMethod]
    public void Check_lists_the_totals_each_budget_with_its_margin_and_the_verdict()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx", dropout: true);

        var run = ToolProcess.Run(temp.Path, "check", "net.onnx", "--max-macc", "6k", "--warn-params", "1k", "--format", "json");

        Assert.AreEqual(2, run.ExitCode, run.ToString());
        var root = Parse(run);
        Assert.AreEqual(Macc, root.GetProperty("totals").GetProperty("macc").GetInt64());
        Assert.AreEqual(Params, root.GetProperty("totals").GetProperty("params").GetInt64());
        var budgets = root.GetProperty("budgets").EnumerateArray().ToList();
        Assert.HasCount(2, budgets);
        Assert.AreEqual("MaxMacc", budgets[0].GetProperty("setting").GetString());
        Assert.AreEqual(6000 - Macc, budgets[0].GetProperty("margin").GetInt64());
        Assert.IsTrue(budgets[0].GetProperty("exceeded").GetBoolean());
        Assert.AreEqual(1000 - Params, budgets[1].GetProperty("margin").GetInt64());
        Assert.AreEqual((double)Params / 1000, budgets[1].GetProperty("used").GetDouble(), 1e-12);
        Assert.IsFalse(budgets[1].GetProperty("exceeded").GetBoolean());
        Assert.AreEqual(1, root.GetProperty("errors").GetInt32());
        Assert.IsFalse(root.GetProperty("passed").GetBoolean());
        Assert.AreEqual("NM1001", root.GetProperty("diagnostics")[0].GetProperty("code").GetString());
        Assert.Contains("error NM1001", run.Stderr, "the build-form line still goes to stderr");
    }

    [TestMethod]
    public void Verify_lists_every_comparison_and_the_verdict()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx", dropout: true);
        Assert.AreEqual(0, ToolProcess.Run(temp.Path, "fuse", "net.onnx", "-o", "out", "--verify", "none").ExitCode);

        var run = ToolProcess.Run(temp.Path, "verify", "net.onnx", "out/net.onnx", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var root = Parse(run);
        Assert.IsTrue(root.GetProperty("passed").GetBoolean());
        Assert.AreEqual(Path.Combine(temp.Path, "out", "net.onnx"), root.GetProperty("optimised").GetString());
        var comparisons = root.GetProperty("comparisons").EnumerateArray().ToList();
        var output = comparisons.Single(c => c.GetProperty("subject").GetString() == "model output");
        Assert.AreEqual(4 * 8 * 8, output.GetProperty("elements").GetInt64());
        Assert.IsTrue(comparisons.All(c => c.GetProperty("passed").GetBoolean()));
        Assert.IsLessThanOrEqualTo(1e-4, root.GetProperty("maxAbsoluteError").GetDouble());
    }

    [TestMethod]
    public void Baseline_accept_shows_each_metric_before_and_after()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx", dropout: true);

        var first = ToolProcess.Run(temp.Path, "baseline", "accept", "net.onnx", "--reason", "first", "--format", "json");
        var second = ToolProcess.Run(temp.Path, "baseline", "accept", "net.onnx", "--reason", "again", "--format", "json");

        Assert.AreEqual(0, first.ExitCode, first.ToString());
        Assert.AreEqual(0, second.ExitCode, second.ToString());
        var (a, b) = (Parse(first), Parse(second));
        Assert.AreEqual(Path.Combine(temp.Path, "neural-baseline.json"), a.GetProperty("baseline").GetString());
        Assert.AreEqual("again", b.GetProperty("reason").GetString());
        var macc = (JsonElement root) => root.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "macc");
        Assert.AreEqual(JsonValueKind.Null, macc(a).GetProperty("before").ValueKind, "no entry before the first");
        Assert.AreEqual(Macc, macc(a).GetProperty("after").GetInt64());
        Assert.AreEqual(Macc, macc(b).GetProperty("before").GetInt64());
    }

    [TestMethod]
    public void Fuse_lists_the_folds_the_figures_before_and_after_and_the_verification()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx", dropout: true);

        var run = ToolProcess.Run(temp.Path, "fuse", "net.onnx", "-o", "out", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var root = Parse(run);
        Assert.AreEqual("fuse", root.GetProperty("command").GetString());
        // One BatchNorm folds into the conv, the Dropout goes: the MACC stays, 4 x 4 BatchNorm values
        // (scale, bias, mean, variance) become the conv's 4 biases.
        Assert.AreEqual(Macc, root.GetProperty("before").GetProperty("totals").GetProperty("macc").GetInt64());
        Assert.AreEqual(Macc, root.GetProperty("after").GetProperty("totals").GetProperty("macc").GetInt64());
        Assert.AreEqual(Params, root.GetProperty("after").GetProperty("totals").GetProperty("params").GetInt64());
        Assert.AreEqual((4 * 3 * 3 * 3) + (4 * 4), root.GetProperty("before").GetProperty("totals").GetProperty("params").GetInt64());
        var applied = root.GetProperty("applied").EnumerateArray().Select(e => e.GetProperty("pass").GetString()).Order(StringComparer.Ordinal).ToArray();
        Assert.HasCount(2, applied, string.Join(", ", applied));
        Assert.IsTrue(root.GetProperty("verification").GetProperty("passed").GetBoolean());
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(temp.Path, "out", "fuse-report.json")), "the report file is what was printed");
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "out", "fuse-report.md")));
    }

    [TestMethod]
    public void Convert_lists_the_written_file_and_both_checks()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx", dropout: true);

        var run = ToolProcess.Run(temp.Path, "convert", "net.onnx", "--to", "onnx", "-o", "out", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var root = Parse(run);
        Assert.AreEqual("convert", root.GetProperty("command").GetString());
        Assert.AreEqual(Path.Combine(temp.Path, "out", "net.onnx"), root.GetProperty("written").GetString());
        Assert.AreEqual(Macc, root.GetProperty("after").GetProperty("totals").GetProperty("macc").GetInt64());
        Assert.IsTrue(root.GetProperty("exportVerification").GetProperty("passed").GetBoolean());
        var runtime = root.GetProperty("runtimeCheck");
        Assert.IsTrue(runtime.GetProperty("passed").GetBoolean());
        StringAssert.StartsWith(runtime.GetProperty("comparisons")[0].GetProperty("subject").GetString(), "ONNX Runtime");
        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("exportAccuracy").ValueKind, "an exact export is proven, not measured");
        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "out", "convert-report.json")));
    }
}
