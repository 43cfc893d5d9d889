using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural report</c> end to end, in its own process: the file it writes, read back as XML.</summary>
[TestClass]
public sealed partial class ReportCommandTests
{
    private static XElement Load(string path)
    {
        using var reader = XmlReader.Create(path, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return XDocument.Load(reader).Root!;
    }

    private static IEnumerable<XElement> WithClass(XElement root, string localName, string cssClass) =>
        root.Descendants().Where(e => e.Name.LocalName == localName && ((string?)e.Attribute("class"))?.Split(' ').Contains(cssClass) == true);

    [TestMethod]
    public void Report_writes_one_html_file_with_a_box_per_layer_and_the_charts()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx");

        var run = ToolProcess.Run(temp.Path, "report", "net.onnx", "--output", "out/net.html");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var path = Path.Combine(temp.Path, "out", "net.html");
        Assert.Contains(path, run.Stdout);
        CollectionAssert.AreEqual(new[] { "net.html" }, Directory.GetFiles(Path.Combine(temp.Path, "out")).Select(Path.GetFileName).ToArray(), "one self-contained file");
        var root = Load(path);
        // conv, bn, relu: three nodes of the ONNX file, three layers.
        CollectionAssert.AreEqual(new[] { "0", "1", "2" }, WithClass(root, "g", "layer").Select(g => (string?)g.Attribute("data-index")).ToArray());
        Assert.HasCount(4, WithClass(root, "svg", "chart").ToList());
        Assert.IsEmpty(WithClass(root, "section", "optimization").ToList());
        Assert.IsFalse(ExternalReference().IsMatch(File.ReadAllText(path)), "nothing is loaded from elsewhere");
    }

    [TestMethod]
    public void Fold_shows_the_batchnorm_folded_into_the_conv_and_the_verification()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx");

        var run = ToolProcess.Run(temp.Path, "report", "net.onnx", "--fold", "--verify", "model", "-o", "net.html");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        Assert.Contains("1 fold(s) applied", run.Stdout);
        var root = Load(Path.Combine(temp.Path, "net.html"));
        CollectionAssert.AreEqual(new[] { "1" }, WithClass(root, "g", "removed").Select(g => (string?)g.Attribute("data-index")).ToArray(), "the BatchNormalization layer is gone");
        var verification = WithClass(root, "table", "verification").Single().Elements().Skip(1).ToList();
        Assert.IsNotEmpty(verification);
        Assert.IsTrue(verification.All(r => r.Elements().Last().Value == "within tolerance"), string.Join('\n', verification.Select(r => r.Value)));
        var changed = WithClass(root, "table", "layer-diff").Single().Elements().Skip(1).Select(r => r.Elements().Select(c => c.Value).ToArray()).ToList();
        Assert.IsTrue(changed.Any(r => r[1] == "BatchNormalization" && r[3] == "removed"), "the per-layer table lists the removed BatchNormalization");
        Assert.AreEqual(0, Directory.GetFiles(temp.Path).Count(f => f.EndsWith(".onnx", StringComparison.Ordinal) && Path.GetFileName(f) != "net.onnx"), "no optimised model is written");
    }

    [TestMethod]
    public void Budgets_and_the_baseline_are_shown_and_never_fail_the_report()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx");

        // conv: 4 outputs of 8x8, 3x3x3 multiply-adds each, 6,912 MACC; BatchNormalization and Relu add none.
        var run = ToolProcess.Run(temp.Path, "report", "net.onnx", "--max-macc", "6000", "-o", "net.html");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var row = WithClass(Load(Path.Combine(temp.Path, "net.html")), "table", "budgets").Single().Elements()
            .Single(r => r.Elements().First().Value == "MACC");
        Assert.AreEqual("fail", (string?)row.Attribute("class"));
        Assert.AreEqual("MaxMacc=6000", row.Elements().ElementAt(2).Value);
        Assert.AreEqual("-912 MAC", row.Elements().ElementAt(4).Value);
    }

    [TestMethod]
    public void An_invalid_budget_is_NM0060_and_exit_1_with_no_report()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx");

        var run = ToolProcess.Run(temp.Path, "report", "net.onnx", "--max-macc", "lots", "-o", "net.html");

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        Assert.Contains("error NM0060", run.Stderr);
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "net.html")));
    }

    [TestMethod]
    public void Profile_adds_the_measured_time_as_read_and_after_folding()
    {
        using var temp = new TempDirectory();
        ConvBatchNormRelu.Write(temp, "net.onnx");

        var run = ToolProcess.Run(temp.Path, "report", "net.onnx", "--fold", "--profile", "-o", "net.html");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var table = WithClass(Load(Path.Combine(temp.Path, "net.html")), "table", "profile").Single();
        var kinds = table.Elements().Skip(1).Select(r => r.Elements().Select(c => c.Value).ToArray()).ToDictionary(r => r[0]);
        Assert.AreEqual("-", kinds["BatchNormalization"][6], "no BatchNormalization time after folding: " + string.Join(" | ", kinds["BatchNormalization"]));
        Assert.AreEqual("1", kinds["Conv"][2]);
        Assert.AreEqual("1", kinds["Conv"][5]);
    }

    [TestMethod]
    public void Fold_without_weights_is_NM0001_and_exit_1()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "net.prototxt"), """
            name: "net"
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 3 } }
            """);

        var run = ToolProcess.Run(temp.Path, "report", "net.prototxt", "--fold", "-o", "net.html");

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        Assert.Contains("error NM0001", run.Stderr);
        Assert.IsFalse(File.Exists(Path.Combine(temp.Path, "net.html")));
    }

    [GeneratedRegex(@"(src|href)\s*=\s*""(https?:)?//|@import|url\((?!#)")]
    private static partial Regex ExternalReference();
}
