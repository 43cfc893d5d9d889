using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
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
[Config(typeof(InProcessShortRun))]
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

    /// <summary>
    /// 1 launch, 5 warm-ups, 10 iterations, in the benchmark's own process: building a separate
    /// benchmark executable took longer than BenchmarkDotNet's 2-minute limit on the shared machine.
    /// </summary>
    public sealed class InProcessShortRun : ManualConfig
    {
        public InProcessShortRun() =>
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(5).WithIterationCount(10).WithToolchain(InProcessEmitToolchain.Instance));
    }
}
