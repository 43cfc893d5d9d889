using System.Xml;
using System.Xml.Linq;
using NeuralBuild.Engine.Formats;
using NeuralBuild.SyntheticWeights;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>baseline accept</c>, then a wider layer: <c>check</c>'s NM1002 names the layer that grew against
/// the accepted per-layer figures, and <c>report --baseline</c> lists it under "Changes against the baseline".
/// </summary>
[TestClass]
public sealed class BaselineChangesTests
{
    private const string Cfg = """
        [net]
        width=32
        height=32
        channels=3
        batch=1

        [convolutional]
        filters=8
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        filters=16
        size=3
        stride=1
        pad=1
        activation=leaky

        """;

    private static void Write(TempDirectory temp, string cfg)
    {
        var path = temp.WriteText("tiny.cfg", cfg);
        DarknetSyntheticWeights.Write(ModelFormats.Read(path), Path.Combine(temp.Path, "tiny.weights"), new SyntheticWeightsOptions { Seed = 3 });
    }

    [TestMethod]
    public void A_regression_names_the_layer_that_grew_and_the_report_lists_the_changed_layers()
    {
        using var temp = new TempDirectory();
        Write(temp, Cfg);
        var accepted = ToolProcess.Run(temp.Path, "baseline", "accept", "tiny.cfg", "--reason", "first");
        Assert.AreEqual(0, accepted.ExitCode, accepted.ToString());

        // The second conv (line 18) from 16 to 32 filters: 3*3*8 * 16*16 * 16 = 294,912 MACC more.
        Write(temp, Cfg.Replace("filters=16", "filters=32", StringComparison.Ordinal));
        var check = ToolProcess.Run(temp.Path, "check", "tiny.cfg", "--baseline", "neural-baseline.json", "--max-macc-increase", "+10%");

        Assert.AreEqual(2, check.ExitCode, check.ToString());
        var macc = check.Stderr.Split('\n').Single(l => l.Contains("error NM1002: MACC grew", StringComparison.Ordinal));
        Assert.StartsWith(Path.Combine(temp.Path, "tiny.cfg") + "(18,1):", macc);
        Assert.Contains("Layers that grew most against the baseline: layer 2 [convolutional] line 18: 294.9 kMAC (294,912).", macc);

        var report = ToolProcess.Run(temp.Path, "report", "tiny.cfg", "--baseline", "neural-baseline.json", "-o", "r.html");
        Assert.AreEqual(0, report.ExitCode, report.ToString());
        using var reader = XmlReader.Create(Path.Combine(temp.Path, "r.html"), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        var rows = XDocument.Load(reader).Root!.Descendants()
            .Where(e => e.Name.LocalName == "table" && ((string?)e.Attribute("class"))?.Split(' ').Contains("baseline-diff") == true)
            .Single().Elements().Skip(1).Select(r => r.Elements().Select(c => c.Value).ToArray()).ToList();
        var row = rows.Single();
        Assert.AreEqual("changed", row[0]);
        Assert.AreEqual("#2 -> #2", row[1]);
        Assert.AreEqual("+294,912", row[6]);
        // 3*3*8 * 16 weights + 16 biases more = 1,168 parameters.
        Assert.AreEqual("+1,168", row[7]);
    }
}
