using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// Every Darknet cfg and every Caffe prototxt of the corpus, with seeded synthetic weights, folded,
/// exported, checked by onnx.checker and run in ONNX Runtime against the reference executor (and,
/// for Caffe, against torch running the original net: <see cref="CaffeTorchForward"/>). Fully
/// convolutional models run at most 128x128, and models of more than 12M weights only on request,
/// to keep the suite quick: NEURALBUILD_EXPORT_ALL=1 runs every model (still small),
/// NEURALBUILD_EXPORT_FULL=1 every model at its declared input size (docs/onnx-export.md).
/// </summary>
[TestClass]
public sealed class OnnxCorpusExportTests
{
    /// <summary>The layers whose models the export refuses, with the code it refuses them with.</summary>
    private static readonly Dictionary<string, DiagnosticDescriptor> s_refusedKinds = new(StringComparer.Ordinal)
    {
        ["LocallyConnected"] = DiagnosticCodes.ExportLocallyConnected,
        ["DarknetContrastive"] = DiagnosticCodes.ExportOperatorUnsupported,
        [HierarchicalSoftmaxWithoutTree] = DiagnosticCodes.ReferencedFileMissing,
    };

    /// <summary>
    /// Darknet's softmax over a class tree (<c>tree=</c>) whose tree file is not where the cfg says
    /// (the corpus copy of yolo9000.cfg names data/9k.tree, relative to a darknet checkout), which the
    /// export refuses rather than guess the groups. Debian's cfgs name the tree Debian installs.
    /// </summary>
    private const string HierarchicalSoftmaxWithoutTree = "hierarchical softmax without its class tree";

    /// <summary>
    /// Models with more weights than this run only in the full run: generating, exporting, checking
    /// and loading hundreds of MB per model takes the corpus past ten minutes on two cores.
    /// </summary>
    private const long QuickRunMaxWeights = 12_000_000;

    private static bool Full => Environment.GetEnvironmentVariable("NEURALBUILD_EXPORT_FULL") == "1";

    /// <summary>Every model, still at the small input: NEURALBUILD_EXPORT_ALL=1.</summary>
    private static bool All => Full || Environment.GetEnvironmentVariable("NEURALBUILD_EXPORT_ALL") == "1";

    public static IEnumerable<object[]> CaffeModels =>
        Directory.GetFiles(TestPaths.CaffeCorpus, "*.prototxt").Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    /// <summary>The corpus cfgs (AlexeyAB's fork) and Debian darknet's (pjreddie's), each read in its fork's dialect.</summary>
    public static IEnumerable<object[]> DarknetModels =>
        Directory.GetFiles(TestPaths.DarknetCorpus, "*.cfg").Order(StringComparer.Ordinal).Select(f => new object[] { f, DarknetDialect.AlexeyAB })
            .Concat(Directory.GetFiles(TestPaths.DebianDarknetCfg, "*.cfg").Order(StringComparer.Ordinal).Select(f => new object[] { f, DarknetDialect.Pjreddie }));

    [TestMethod]
    [DynamicData(nameof(DarknetModels))]
    public void Darknet_corpus_model_exports_and_matches_in_onnx_runtime(string cfg, DarknetDialect dialect)
    {
        Model declared;
        try
        {
            declared = ModelFormats.Read(cfg, new ModelReadOptions { DarknetDialect = dialect });
        }
        catch (NeuralException e) when (e.Diagnostic.Descriptor == DiagnosticCodes.CfgUnsupportedLayer)
        {
            // Recurrent layers: the reader refuses these models, there is nothing to export.
            return;
        }

        SkipLargeUnlessFull(declared);
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.DarknetFile(temp.Path, cfg, SmallInput(declared), dialect);
        OnnxRuntimeComparison.Folded(model);
        if (IsRefusedAsExpected(model, temp.Path))
        {
            return;
        }

        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, low: 0, high: 1);
    }

    [TestMethod]
    [DynamicData(nameof(CaffeModels))]
    public void Caffe_corpus_model_exports_and_matches_in_onnx_runtime(string file)
    {
        var declared = ModelFormats.Read(Path.Combine(TestPaths.CaffeCorpus, file));
        SkipLargeUnlessFull(declared);
        using var temp = new TempDirectory();
        var prototxt = temp.Combine(file);
        File.Copy(Path.Combine(TestPaths.CaffeCorpus, file), prototxt);
        var weights = Path.ChangeExtension(prototxt, ".caffemodel");
        CaffeSyntheticWeights.Write(declared, weights, new SyntheticWeightsOptions { Seed = 5 });
        var model = ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = weights, InputShape = SmallInput(declared) });
        var blobOfValue = ((CaffeModel)model.SourceDocument!).BlobOfValue;
        OnnxRuntimeComparison.Folded(model);
        var result = OnnxRuntimeComparison.ExportAndCompare(model, temp.Path);
        var detection = model.Graph.Nodes.Any(n => n.OpType == "DetectionOutput");
        Assert.AreEqual(detection, result.Warnings.Any(w => w.Descriptor == DiagnosticCodes.ExportDetectionOutputDropped), "NM2010 exactly when the model ends in DetectionOutput");

        // The second opinion: torch runs the original, unfolded net from the same two files.
        OnnxRuntimeComparison.Compare(
            model,
            result,
            oracle: (input, shape, values) => CaffeTorchForward.Run(prototxt, weights, input, shape, [.. values.Select(v => blobOfValue.GetValueOrDefault(v, v))]),
            oracleName: "torch running the Caffe net");
    }

    internal static void SkipLargeUnlessFull(Model declared)
    {
        var weights = declared.Graph.Initializers.Values.Sum(i => i.Shape.ElementCount);
        if (!All && weights > QuickRunMaxWeights)
        {
            Assert.Inconclusive($"{weights:N0} weights: exported and compared only when every model is asked for (NEURALBUILD_EXPORT_ALL=1 or NEURALBUILD_EXPORT_FULL=1).");
        }
    }

    /// <summary>The declared input, or at most 128x128 for a fully convolutional model unless the full run is asked for.</summary>
    internal static Shape? SmallInput(Model declared)
    {
        var input = declared.Graph.Inputs.Values.Single();
        return Full || declared.Graph.Nodes.Any(n => n.OpType is "FullyConnected" or "LocallyConnected" or "Reshape" or "Flatten") || input.Rank != 4
            ? null
            : Shape.Nchw(1, input.C, Math.Min(input.H, 128), Math.Min(input.W, 128));
    }

    internal static List<string> RefusedKinds(Model model) =>
        [.. model.Graph.Nodes
            .Select(n => LacksClassTree(n) ? HierarchicalSoftmaxWithoutTree : n.OpType)
            .Where(s_refusedKinds.ContainsKey)
            .Distinct()];

    /// <summary>The export refuses <paramref name="model"/> with exactly the codes of its refused kinds; false when it has none.</summary>
    internal static bool IsRefusedAsExpected(Model model, string folder)
    {
        var refused = RefusedKinds(model);
        if (refused.Count == 0)
        {
            return false;
        }

        var result = OnnxExporter.Export(model, Path.Combine(folder, "refused.onnx"), new());
        Assert.IsFalse(result.Succeeded);
        CollectionAssert.IsSubsetOf(result.Refusals.Select(r => r.Diagnostic.Descriptor).Distinct().ToList(), refused.Select(k => s_refusedKinds[k]).ToList());
        return true;
    }

    private static bool LacksClassTree(Node node) => node.OpType switch
    {
        "Softmax" => node.AttributesAs<SoftmaxAttributes>().MissingClassTree is not null,
        "DarknetRegion" => node.AttributesAs<DarknetRegionAttributes>().MissingClassTree is not null,
        _ => false,
    };
}
