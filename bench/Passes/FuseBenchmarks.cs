using BenchmarkDotNet.Attributes;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Benchmarks.Passes;

/// <summary>
/// What <c>dotnet neural fuse</c> does in memory before it writes: read the cfg and its weights,
/// analyse, run the fold passes, analyse the folded graph. Weights are lazy file slices, so the
/// allocation measured is the engine's own, not the tensors'.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn, MaxColumn]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 10)]
public class FuseBenchmarks
{
    private ModelReadOptions _options = new();
    private string _cfg = string.Empty;

    [Params("resnet152", "densenet201", "cspx-p7-mish", "yolov4", "yolov3")]
    public string Model { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _cfg = FuseModels.Cfg(Model);
        _options = FuseModels.WithWeights(Model);
    }

    [Benchmark(Description = "read+analyse+passes+analyse")]
    public int ReadFoldAnalyse()
    {
        var model = ModelFormats.Read(_cfg, _options);
        var before = CostModel.Analyze(model);
        var passes = PassManager.Run(model.Graph);
        var after = CostModel.Analyze(model);
        return before.Layers.Count + after.Layers.Count + passes.Folds.Count;
    }
}
