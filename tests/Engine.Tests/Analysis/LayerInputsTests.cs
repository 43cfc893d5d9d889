using System.Text.RegularExpressions;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>The data flow between source layers (<see cref="LayerReport.InputLayers"/>), against what the model file says.</summary>
[TestClass]
public sealed partial class LayerInputsTests
{
    [TestMethod]
    [DataRow("yolov3.cfg")]
    [DataRow("yolov3-tiny.cfg")]
    [DataRow("yolov4.cfg")]
    public void Every_darknet_layer_reads_the_layers_its_cfg_section_names(string cfg)
    {
        var path = TestPaths.Corpus(cfg);
        var report = CostModel.Analyze(ModelFormats.Read(path));

        var expected = ReadsByCfgText(File.ReadAllText(path));
        Assert.HasCount(expected.Count, report.Layers);
        foreach (var layer in report.Layers)
        {
            CollectionAssert.AreEquivalent(expected[layer.Index], layer.InputLayers.ToList(), $"layer {layer.Index} [{layer.Kind}]");
        }
    }

    [TestMethod]
    public void A_caffe_residual_block_reads_both_branches_and_a_layer_fed_by_the_model_input_reads_no_layer()
    {
        var report = CostModel.Analyze(ModelFormats.Read(Path.Combine(TestPaths.CaffeCorpus, "resnet50.deploy.prototxt")));
        var byName = report.Layers.ToDictionary(l => l.Name);

        Assert.IsEmpty(byName["conv1"].InputLayers);
        // res2a = Eltwise(bottom: "res2a_branch1", bottom: "res2a_branch2c"): the Scale layers write those blobs in place.
        CollectionAssert.AreEquivalent(new[] { byName["scale2a_branch1"].Index, byName["scale2a_branch2c"].Index }, byName["res2a"].InputLayers.ToList());
    }

    /// <summary>
    /// Darknet's rules, read from the cfg text: a layer reads the one before it, [route] reads its
    /// <c>layers</c> (negative: relative), [shortcut] the one before and its <c>from</c>.
    /// </summary>
    private static Dictionary<int, List<int>> ReadsByCfgText(string text)
    {
        var sections = SectionPattern().Matches(text).Select(m => (Type: m.Groups[1].Value, Body: m.Groups[2].Value)).Where(s => s.Type is not ("net" or "network")).ToList();
        var reads = new Dictionary<int, List<int>>();
        for (var i = 0; i < sections.Count; i++)
        {
            var (type, body) = sections[i];
            int Resolve(int v) => v < 0 ? i + v : v;
            reads[i] = type switch
            {
                "route" => [.. Values(body, "layers").Select(Resolve)],
                "shortcut" => [i - 1, .. Values(body, "from").Select(Resolve)],
                _ => i == 0 ? [] : [i - 1],
            };
        }

        return reads;
    }

    private static IEnumerable<int> Values(string body, string key)
    {
        var match = Regex.Match(body, $@"^\s*{key}\s*=\s*([-0-9, ]+)", RegexOptions.Multiline);
        return match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse);
    }

    [GeneratedRegex(@"^\[(\w+)\]([^\[]*)", RegexOptions.Multiline)]
    private static partial Regex SectionPattern();
}
