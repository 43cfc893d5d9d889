using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.Benchmarks.Inspect;

/// <summary>
/// The first read + analyse of yolov4.cfg in a fresh process (no warm-up; code not yet JIT-compiled,
/// files not yet touched by this process): the in-process share of one <c>dotnet neural inspect</c>
/// run. 10 processes, one invocation each.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn, MaxColumn]
[SimpleJob(RunStrategy.ColdStart, launchCount: 10, warmupCount: 0, iterationCount: 1)]
public class ColdStartBenchmarks
{
    private string _yolov4 = string.Empty;

    [GlobalSetup]
    public void Setup() => _yolov4 = Corpus.Shared("yolov4.cfg");

    [Benchmark(Description = "yolov4.cfg first read+analyse in a fresh process")]
    public ModelReport Yolov4Cold() => CostModel.Analyze(ModelFormats.Read(_yolov4, new ModelReadOptions()), CountingConvention.Default);
}
