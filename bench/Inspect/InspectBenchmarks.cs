using BenchmarkDotNet.Attributes;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Benchmarks.Inspect;

/// <summary>
/// In-process cost of what <c>dotnet neural inspect</c> does: parse a cfg, build the graph, infer
/// shapes and count costs (no formatting, no output). Kept short (1 launch, 10 warm-ups, 15
/// iterations) because the machine is shared.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn, MaxColumn]
[SimpleJob(launchCount: 1, warmupCount: 10, iterationCount: 15)]
public class InspectBenchmarks
{
    private static readonly ModelReadOptions DeclaredInput = new();
    private static readonly ModelReadOptions Input608 = new() { InputShape = Shape.Parse("1x3x608x608") };

    private IReadOnlyList<CorpusFile> _corpus = [];
    private string _yolov4 = string.Empty;
    private string _yolov3 = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _corpus = Corpus.Files();
        _yolov4 = Corpus.Shared("yolov4.cfg");
        _yolov3 = Corpus.Shared("yolov3.cfg");
        var outcome = Corpus.AnalyseAll(_corpus);
        Console.WriteLine($"// Corpus: {outcome.Analysed} of {outcome.Total} cfgs analysed, {outcome.Refused.Count} refused by the engine.");
    }

    /// <summary>(a) every cfg of both corpora; returns how many were analysed.</summary>
    [Benchmark(Description = "All corpus cfgs (read+analyse)")]
    public int AllCorpusCfgs() => Corpus.AnalyseAll(_corpus).Analysed;

    /// <summary>(b) yolov4.cfg at its declared 608x608 input.</summary>
    [Benchmark(Description = "yolov4.cfg (read+analyse)")]
    public ModelReport Yolov4() => CostModel.Analyze(ModelFormats.Read(_yolov4, DeclaredInput), CountingConvention.Default);

    /// <summary>(c) yolov3.cfg with the input overridden to 1x3x608x608.</summary>
    [Benchmark(Description = "yolov3.cfg @ 1x3x608x608 (read+analyse)")]
    public ModelReport Yolov3At608() => CostModel.Analyze(ModelFormats.Read(_yolov3, Input608), CountingConvention.Default);
}
