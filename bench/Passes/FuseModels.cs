using NeuralBuild.Engine.Formats;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Benchmarks.Passes;

/// <summary>
/// The cfgs measured and their generated weights. Without weights no fold applies (nothing is
/// constant), so every cfg gets a deterministic .weights from tools/SyntheticWeights, written once
/// into a work folder and reused by later runs.
/// </summary>
public static class FuseModels
{
    /// <summary>The largest cfgs of corpus/darknet by node count, plus the two YOLOs everyone knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["resnet152", "densenet201", "cspx-p7-mish", "yolov4", "yolov3"];

    public static string RepoRoot { get; } = FindUp("NeuralBuild.slnx");

    /// <summary>Where weights are generated: $BENCH_WORK, else a fixed folder under the temp directory.</summary>
    public static string WorkDirectory { get; } = Environment.GetEnvironmentVariable("BENCH_WORK") is { Length: > 0 } work
        ? work
        : Path.Combine(Path.GetTempPath(), "neuralbuild-bench-passes");

    public static string Cfg(string name) => Path.Combine(RepoRoot, "corpus", "darknet", name + ".cfg");

    /// <summary>The read options with the model's generated weights, generating them first if missing.</summary>
    public static ModelReadOptions WithWeights(string name)
    {
        Directory.CreateDirectory(WorkDirectory);
        var weights = Path.Combine(WorkDirectory, name + ".weights");
        if (!File.Exists(weights))
        {
            DarknetSyntheticWeights.Write(ModelFormats.Read(Cfg(name)), weights);
        }

        return new ModelReadOptions { WeightsPath = weights };
    }

    private static string FindUp(string marker)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, marker)))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"{marker} not found above {AppContext.BaseDirectory}.");
    }
}
