using System.Text.RegularExpressions;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>
/// Issue 2's acceptance test: for every cfg of the corpus and of Debian's darknet package, the real
/// <c>darknet ops CFG</c> prints the FLOPs we compute under convention "darknet". Each cfg where
/// that cannot hold is listed below with its reason, the test proves the reason, and
/// docs/darknet-ops-exceptions.md explains it.
/// </summary>
[TestClass]
public sealed partial class DarknetOpsCrossCheckTests
{
    private const string CorpusPrefix = "corpus/";
    private const string DebianPrefix = "debian/";

    /// <summary>Published in darknet's README for yolov4-tiny at 416x416 (docs/metrics.md).</summary>
    private const long PublishedYolov4TinyFlops = 6_907_876_352L;

    private enum Reason
    {
        /// <summary>pjreddie's darknet does not know a section kind of the cfg and crashes or aborts without a figure.</summary>
        DarknetCannotParse,

        /// <summary>The cfg points darknet at a data file relative to the working directory; darknet crashes without it.</summary>
        RelativeDataPath,

        /// <summary>Recurrent layers: darknet counts them, NeuralBuild refuses the model with NM0016.</summary>
        Recurrent,

        /// <summary>pjreddie ignores [route] groups/group_id (an AlexeyAB addition), so it counts the whole route.</summary>
        RouteGroupsIgnored,
    }

    /// <param name="Reason">Why this cfg cannot match.</param>
    /// <param name="Evidence">Text darknet prints that shows the reason (for <see cref="Reason.DarknetCannotParse"/>).</param>
    private sealed record Exception(Reason Reason, string? Evidence = null);

    /// <summary>Every cfg exempt from the exact match. Keep docs/darknet-ops-exceptions.md in step (a test checks).</summary>
    private static readonly Dictionary<string, Exception> s_exceptions = new(StringComparer.Ordinal)
    {
        [CorpusPrefix + "Gaussian_yolov3_BDD.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [Gaussian_yolo]"),
        [CorpusPrefix + "cspx-p7-mish.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [sam]"),
        [CorpusPrefix + "cspx-p7-mish_hp.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [sam]"),
        [CorpusPrefix + "efficientnet_b0.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [scale_channels]"),
        [CorpusPrefix + "enet-coco.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [scale_channels]"),
        [CorpusPrefix + "yolov4-sam-mish-csp-reorg-bfm.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [reorg3d]"),
        [CorpusPrefix + "yolov4-tiny_contrastive.cfg"] = new(Reason.DarknetCannotParse, "Type not recognized: [local_avgpool]"),
        [CorpusPrefix + "yolo9000.cfg"] = new(Reason.RelativeDataPath),
        [CorpusPrefix + "crnn.train.cfg"] = new(Reason.Recurrent),
        [CorpusPrefix + "gru.cfg"] = new(Reason.Recurrent),
        [CorpusPrefix + "lstm.train.cfg"] = new(Reason.Recurrent),
        [CorpusPrefix + "rnn.cfg"] = new(Reason.Recurrent),
        [CorpusPrefix + "rnn.train.cfg"] = new(Reason.Recurrent),
        [CorpusPrefix + "yolov3-tiny_occlusion_track.cfg"] = new(Reason.Recurrent),
        [DebianPrefix + "gru.cfg"] = new(Reason.Recurrent),
        [DebianPrefix + "rnn.cfg"] = new(Reason.Recurrent),
        [DebianPrefix + "rnn.train.cfg"] = new(Reason.Recurrent),
        [CorpusPrefix + "yolov4-tiny.cfg"] = new(Reason.RouteGroupsIgnored),
        [CorpusPrefix + "yolov4-tiny-custom.cfg"] = new(Reason.RouteGroupsIgnored),
        [CorpusPrefix + "yolov4-tiny-3l.cfg"] = new(Reason.RouteGroupsIgnored),
    };

    /// <summary>One case per cfg file, named "corpus/x.cfg" or "debian/x.cfg".</summary>
    public static IEnumerable<object[]> Cfgs =>
        CfgNames(TestPaths.DarknetCorpus, CorpusPrefix).Concat(CfgNames(TestPaths.DebianDarknetCfg, DebianPrefix)).Select(n => new object[] { n });

    [TestMethod]
    public void The_reference_darknet_and_both_cfg_collections_are_installed()
    {
        Assert.IsNotNull(DarknetOps.Binary, DarknetOps.InstallHint);
        Assert.IsTrue(Directory.Exists(TestPaths.DebianDarknetCfg), $"{TestPaths.DebianDarknetCfg} is missing. {DarknetOps.InstallHint}");
        Assert.IsTrue(Directory.Exists(TestPaths.DarknetCorpus), $"The corpus {TestPaths.DarknetCorpus} is missing.");

        // Guards against the DynamicData source silently shrinking: 87 corpus cfgs and Debian's 45.
        Assert.AreEqual(87, CfgNames(TestPaths.DarknetCorpus, CorpusPrefix).Count());
        Assert.AreEqual(45, CfgNames(TestPaths.DebianDarknetCfg, DebianPrefix).Count());
    }

    [TestMethod]
    public void Every_listed_exception_names_an_existing_cfg_and_is_documented()
    {
        var documentation = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "darknet-ops-exceptions.md"));
        foreach (var cfg in s_exceptions.Keys)
        {
            Assert.IsTrue(File.Exists(PathOf(cfg)), $"{cfg} is listed as an exception but does not exist.");
            Assert.Contains($"`{cfg}`", documentation, $"docs/darknet-ops-exceptions.md does not explain {cfg}.");
        }

        // …and the document lists nothing the code does not exempt.
        foreach (Match documented in DocumentedCfg().Matches(documentation))
        {
            Assert.IsTrue(s_exceptions.ContainsKey(documented.Groups[1].Value), $"docs/darknet-ops-exceptions.md lists {documented.Groups[1].Value}, which the test does not exempt.");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cfgs))]
    public void Darknet_ops_prints_the_flops_we_count_under_convention_darknet(string cfg)
    {
        var path = PathOf(cfg);
        var darknet = DarknetOps.Run(path);
        if (!s_exceptions.TryGetValue(cfg, out var exception))
        {
            Assert.IsNotNull(darknet.Flops,
                $"darknet printed no figure for {cfg} ({darknet}). If it cannot read this cfg, list it in s_exceptions and docs/darknet-ops-exceptions.md with the reason.");
            Assert.AreEqual(darknet.Flops.Value, DarknetFlops(CfgDocument.Load(path)), $"FLOPs of {cfg} under convention darknet");
            return;
        }

        switch (exception.Reason)
        {
            case Reason.DarknetCannotParse:
                ProveDarknetCannotParse(cfg, darknet, exception.Evidence!);
                break;
            case Reason.RelativeDataPath:
                ProveRelativeDataPath(cfg, darknet);
                break;
            case Reason.Recurrent:
                ProveRecurrentIsRefused(cfg);
                break;
            case Reason.RouteGroupsIgnored:
                ProveRouteGroupsAreIgnored(cfg, darknet);
                break;
            default:
                Assert.Fail($"No proof written for {exception.Reason}.");
                break;
        }
    }

    /// <summary>Darknet says which section it does not know, stops without a figure; we count the model.</summary>
    private static void ProveDarknetCannotParse(string cfg, DarknetOpsRun darknet, string evidence)
    {
        Assert.IsTrue(darknet.ExitCode != 0 || darknet.Flops is null, $"darknet read {cfg} after all ({darknet}); remove the exception.");
        Assert.IsNull(darknet.Flops, $"darknet printed a figure for {cfg}: {darknet}");
        Assert.Contains(evidence, darknet.Output, $"darknet's output for {cfg} does not show the documented reason.");
        Assert.IsGreaterThan(0L, DarknetFlops(CfgDocument.Load(PathOf(cfg))), $"we should produce a figure for {cfg}.");
    }

    /// <summary>
    /// The corpus copy of yolo9000.cfg names <c>tree=data/9k.tree</c> and <c>map=data/coco9k.map</c>,
    /// relative to darknet's working directory. Pointed at Debian's copies of those files, darknet
    /// reads the same cfg and prints our figure.
    /// </summary>
    private static void ProveRelativeDataPath(string cfg, DarknetOpsRun darknet)
    {
        Assert.IsNull(darknet.Flops, $"darknet read {cfg} from an empty directory after all ({darknet}); remove the exception.");
        Assert.AreNotEqual(0, darknet.ExitCode);

        var text = File.ReadAllText(PathOf(cfg));
        var rewritten = RelativeDataFile().Replace(text, m => $"{m.Groups[1].Value}/usr/share/darknet/{m.Groups[2].Value}");
        Assert.AreNotEqual(text, rewritten, $"{cfg} has no relative data/ path any more; remove the exception.");

        var copy = Path.Combine(Directory.CreateTempSubdirectory("neuralbuild-yolo9000-").FullName, Path.GetFileName(cfg));
        try
        {
            File.WriteAllText(copy, rewritten);
            var fixedRun = DarknetOps.Run(copy);
            Assert.IsNotNull(fixedRun.Flops, $"darknet still fails with absolute data paths: {fixedRun}");
            Assert.AreEqual(fixedRun.Flops.Value, DarknetFlops(CfgDocument.Load(PathOf(cfg))));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
        }
    }

    /// <summary>We refuse recurrent models with NM0016 at the first recurrent section, found here by reading the text.</summary>
    private static void ProveRecurrentIsRefused(string cfg)
    {
        var path = PathOf(cfg);
        var lines = File.ReadAllLines(path);
        var index = Array.FindIndex(lines, l => RecurrentHeader().IsMatch(l));
        Assert.IsGreaterThanOrEqualTo(0, index, $"{cfg} has no recurrent section; remove the exception.");
        var kind = RecurrentHeader().Match(lines[index]).Groups[1].Value;

        var error = Assert.ThrowsExactly<NeuralException>(() => ModelFormats.Read(path));
        Assert.AreEqual(DiagnosticCodes.CfgUnsupportedLayer.Code, error.Code, error.ToString());
        Assert.AreEqual(path, error.Location.File);
        Assert.AreEqual(index + 1, error.Location.Line, error.ToString());
        Assert.AreEqual(lines[index].IndexOf('[', StringComparison.Ordinal) + 1, error.Location.Column);
        Assert.Contains($"[{kind}]", error.Diagnostic.Message);
        Assert.Contains("recurrent", error.Diagnostic.Message);
    }

    /// <summary>
    /// pjreddie warns "Unused field: 'groups = 2'" and routes every channel. With the [route]
    /// groups/group_id lines deleted, our figure is darknet's; with them, it is not (for yolov4-tiny
    /// it is the published figure instead).
    /// </summary>
    private static void ProveRouteGroupsAreIgnored(string cfg, DarknetOpsRun darknet)
    {
        Assert.IsNotNull(darknet.Flops, darknet.ToString());
        Assert.Contains("Unused field: 'groups = ", darknet.Output);
        Assert.Contains("Unused field: 'group_id = ", darknet.Output);

        var document = CfgDocument.Load(PathOf(cfg));
        var ours = DarknetFlops(document);
        Assert.AreNotEqual(darknet.Flops.Value, ours, $"{cfg} matches darknet with its groups; remove the exception.");

        var routeGroupLines = document.Sections
            .Where(s => s.Type == "route")
            .SelectMany(s => s.Options)
            .Where(o => o.Key is "groups" or "group_id")
            .Select(o => o.LineIndex)
            .ToHashSet();
        Assert.IsNotEmpty(routeGroupLines);
        var withoutGroups = string.Join('\n', document.Lines.Where((_, i) => !routeGroupLines.Contains(i)));
        Assert.AreEqual(darknet.Flops.Value, DarknetFlops(CfgDocument.Parse(document.Path, withoutGroups)));

        if (cfg == CorpusPrefix + "yolov4-tiny.cfg")
        {
            Assert.AreEqual(PublishedYolov4TinyFlops, ours);
        }
    }

    private static long DarknetFlops(CfgDocument document)
    {
        var model = new DarknetFormat().Read(document, new ModelReadOptions());
        return CostModel.Analyze(model, CountingConvention.Get("darknet")).Totals.Flops;
    }

    private static IEnumerable<string> CfgNames(string directory, string prefix) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.cfg").Select(f => prefix + Path.GetFileName(f)).Order(StringComparer.Ordinal)
            : [];

    private static string PathOf(string cfg) =>
        cfg.StartsWith(CorpusPrefix, StringComparison.Ordinal) ? TestPaths.Corpus(cfg[CorpusPrefix.Length..])
        : cfg.StartsWith(DebianPrefix, StringComparison.Ordinal) ? Path.Combine(TestPaths.DebianDarknetCfg, cfg[DebianPrefix.Length..])
        : throw new ArgumentException($"{cfg} names no collection.", nameof(cfg));

    [GeneratedRegex(@"^\s*\[(rnn|gru|lstm|crnn|conv_lstm|history)\]")]
    private static partial Regex RecurrentHeader();

    [GeneratedRegex(@"^(\s*(?:tree|map)\s*=\s*)(data/)", RegexOptions.Multiline)]
    private static partial Regex RelativeDataFile();

    [GeneratedRegex(@"`((?:corpus|debian)/[^`]+\.cfg)`")]
    private static partial Regex DocumentedCfg();
}
