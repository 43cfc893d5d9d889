using System.Text.Json;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural diff A B</c> end to end, in its own process.</summary>
[TestClass]
public sealed class DiffCommandTests
{
    /// <summary>yolov3-tiny.cfg as published, and a copy whose [net] asks for 448x448.</summary>
    private static (string Small, string Large) TwoSizes(TempDirectory temp)
    {
        var text = File.ReadAllText(TestPaths.Corpus("yolov3-tiny.cfg"));
        StringAssert.Contains(text, "width=416\nheight=416\n");
        return (temp.WriteText("yolov3-tiny.cfg", text), temp.WriteText("yolov3-tiny-448.cfg", text.Replace("width=416\nheight=416\n", "width=448\nheight=448\n", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void A_budget_of_change_beyond_the_growth_passes_and_one_below_it_exits_2_with_NM1005()
    {
        using var temp = new TempDirectory();
        TwoSizes(temp);

        var within = ToolProcess.Run(temp.Path, "diff", "yolov3-tiny.cfg", "yolov3-tiny-448.cfg", "--max-macc-increase", "+16%");
        var beyond = ToolProcess.Run(temp.Path, "diff", "yolov3-tiny.cfg", "yolov3-tiny-448.cfg", "--max-macc-increase", "+2%", "--max-params-increase", "+0");

        Assert.AreEqual(0, within.ExitCode, within.ToString());
        Assert.AreEqual(string.Empty, within.Stderr);
        Assert.AreEqual(2, beyond.ExitCode, beyond.ToString());
        Assert.HasCount(1, beyond.StderrLines, "the parameters did not grow: only MACC fails");
        Assert.StartsWith(Path.Combine(temp.Path, "yolov3-tiny-448.cfg") + "(97,1): error NM1005: MACC grew from 2.78 GMAC (2,782,480,896) in 'yolov3-tiny.cfg'", beyond.StderrLines[0]);
        // Both print the same table: every conv row with its MACC change (layer 12: 3*3*512*1024 * (14*14 - 13*13)).
        Assert.AreEqual(within.Stdout, beyond.Stdout);
        StringAssert.Contains(beyond.Stdout, "+127,401,984");
    }

    [TestMethod]
    public void A_malformed_budget_of_change_is_NM0061_and_exit_1()
    {
        using var temp = new TempDirectory();
        TwoSizes(temp);

        var run = ToolProcess.Run(temp.Path, "diff", "yolov3-tiny.cfg", "yolov3-tiny-448.cfg", "--max-macc-increase", "+2 apples");

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        Assert.AreEqual(string.Empty, run.Stdout);
        Assert.StartsWith("dotnet-neural: error NM0061: MaxMaccIncrease=\"+2 apples\"", run.StderrLines.Single());
    }

    [TestMethod]
    public void Json_has_a_schema_version_both_models_totals_and_a_row_per_layer()
    {
        using var temp = new TempDirectory();
        var (small, large) = TwoSizes(temp);

        var run = ToolProcess.Run(temp.Path, "diff", "yolov3-tiny.cfg", "yolov3-tiny-448.cfg", "--format", "json", "--max-macc-increase", "+2%");

        Assert.AreEqual(2, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual(small, root.GetProperty("first").GetProperty("model").GetString());
        Assert.AreEqual(large, root.GetProperty("second").GetProperty("model").GetString());
        Assert.AreEqual("1x3x448x448", root.GetProperty("second").GetProperty("inputShape").GetString());
        var totals = root.GetProperty("totals");
        // yolov3-tiny's MACC at 416 is its published 2,782,480,896 (darknet prints 5.565 BFLOPs = 2 x MACC).
        Assert.AreEqual(2_782_480_896L, totals.GetProperty("first").GetProperty("macc").GetInt64());
        Assert.AreEqual(
            totals.GetProperty("second").GetProperty("macc").GetInt64() - totals.GetProperty("first").GetProperty("macc").GetInt64(),
            totals.GetProperty("delta").GetProperty("macc").GetInt64());
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.HasCount(24, layers);
        var first = layers[0];
        Assert.AreEqual("changed", first.GetProperty("change").GetString());
        Assert.AreEqual("position", first.GetProperty("matchedBy").GetString());
        Assert.AreEqual("convolutional", first.GetProperty("kind").GetString());
        Assert.AreEqual("1x16x416x416", first.GetProperty("first").GetProperty("outputShape").GetString());
        Assert.AreEqual("1x16x448x448", first.GetProperty("second").GetProperty("outputShape").GetString());
        // Layer 0: 3x3, 3 -> 16 channels, 416x416 -> 448x448: 3*3*3*16 * (448*448 - 416*416).
        Assert.AreEqual(3L * 3 * 3 * 16 * ((448 * 448) - (416 * 416)), first.GetProperty("delta").GetProperty("macc").GetInt64());
        Assert.AreEqual("NM1005", root.GetProperty("diagnostics")[0].GetProperty("code").GetString());
    }

    [TestMethod]
    public void An_onnx_model_and_its_fused_form_show_the_batchnorm_and_dropout_removed()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx", dropout: true);
        Assert.AreEqual(0, ToolProcess.Run(temp.Path, "fuse", "net.onnx", "-o", "out").ExitCode);

        var run = ToolProcess.Run(temp.Path, "diff", "net.onnx", "out/net.onnx", "--format", "json");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var rows = json.RootElement.GetProperty("layers").EnumerateArray()
            .Select(l => (Change: l.GetProperty("change").GetString(), Kind: l.GetProperty("kind").GetString()))
            .ToList();
        CollectionAssert.AreEqual(
            new[] { ("changed", "Conv"), ("removed", "BatchNormalization"), ("same", "Relu"), ("removed", "Dropout") },
            rows);
        // The conv gained a bias of 4 values; BatchNormalization's 4 x 4 statistics are gone.
        Assert.AreEqual(4 - 16, json.RootElement.GetProperty("totals").GetProperty("delta").GetProperty("params").GetInt64());
    }

    [TestMethod]
    public void Two_unrelated_models_share_no_layer_and_get_NM2020()
    {
        using var temp = new TempDirectory();
        TwoSizes(temp);
        ConvBatchNormRelu.Write(temp, "net.onnx");

        var run = ToolProcess.Run(temp.Path, "diff", "net.onnx", "yolov3-tiny.cfg", "--format", "md");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        Assert.StartsWith(Path.Combine(temp.Path, "yolov3-tiny.cfg") + ": warning NM2020: no layer of 'yolov3-tiny.cfg'", run.StderrLines.Single());
        // 3 ONNX nodes removed, 24 Darknet layers added.
        StringAssert.Contains(run.Stdout, "27 rows: 0 changed, 0 same, 24 added, 3 removed");
        StringAssert.Contains(run.Stdout, "| change | layer | kind |");
    }
}
