using System.Diagnostics;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution.Profiling;

/// <summary>How a profile is measured.</summary>
public sealed record ProfileOptions
{
    public const int MaxRuns = 10_000;

    /// <summary>Measured runs; each layer's time is its median over them.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Unmeasured runs first: weights loaded, buffers allocated, kernels compiled.</summary>
    public int Warmup { get; init; } = 1;

    /// <summary>Threads the kernels may use; null: every core, as the executor's default.</summary>
    public int? Threads { get; init; }

    /// <summary>NM0330 at <paramref name="where"/> for a setting no measurement can use.</summary>
    public void Check(SourceLocation where)
    {
        if (Runs is < 1 or > MaxRuns)
        {
            throw DiagnosticCodes.InvalidProfileSetting.Exception(where, $"--runs {Runs} must be between 1 and {MaxRuns}.");
        }

        if (Warmup is < 0 or > MaxRuns)
        {
            throw DiagnosticCodes.InvalidProfileSetting.Exception(where, $"--warmup {Warmup} must be between 0 and {MaxRuns}.");
        }

        if (Threads is < 1)
        {
            throw DiagnosticCodes.InvalidProfileSetting.Exception(where, $"--threads {Threads} must be 1 or more.");
        }
    }
}

/// <summary>Whether a layer's work is a tensor product (convolution, deconvolution, fully connected, matrix product) or everything else.</summary>
public enum LayerCategory
{
    Tensor,
    NonTensor,
}

/// <summary>One executed node's median time.</summary>
public sealed record LayerTiming(int Step, LayerOrigin Origin, string NodeName, string Op, LayerCategory Category, double MedianMilliseconds);

/// <summary>One op kind's time summed over its layers, and its share of the sum of all layers.</summary>
public sealed record KindTiming(string Op, LayerCategory Category, int Layers, double Milliseconds, double Share);

/// <summary>
/// Measured time of one graph on the reference executor: each node's median over the runs, and the
/// median of the same runs' whole forward passes, each timed as one by a clock of its own.
/// </summary>
public sealed record GraphProfile(IReadOnlyList<LayerTiming> Layers, double ForwardPassMilliseconds, int Runs, int Warmup, int Threads)
{
    /// <summary>The sum of the layers' medians (what the shares divide).</summary>
    public double LayersMilliseconds => Layers.Sum(l => l.MedianMilliseconds);

    public double Milliseconds(LayerCategory category) => Layers.Where(l => l.Category == category).Sum(l => l.MedianMilliseconds);

    /// <summary>Per op kind, slowest first.</summary>
    public IReadOnlyList<KindTiming> Kinds
    {
        get
        {
            var total = LayersMilliseconds;
            return [.. Layers.GroupBy(l => (l.Op, l.Category))
                .Select(g => new KindTiming(g.Key.Op, g.Key.Category, g.Count(), g.Sum(l => l.MedianMilliseconds), total > 0 ? g.Sum(l => l.MedianMilliseconds) / total : 0))
                .OrderByDescending(k => k.Milliseconds)
                .ThenBy(k => k.Op, StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// The median over the runs of the share of each run its own steps account for (1 when the step
    /// clock sees all of the run). Unlike <see cref="SumDeviation"/>, which compares medians taken
    /// apart, each run is compared with itself, so a busy moment lands on both sides; what stays
    /// outside is the executor's own work between steps. Null when not measured.
    /// </summary>
    public double? StepCoverage { get; init; }

    /// <summary>How far the sum of the layers is from the whole forward pass, relative to the latter.</summary>
    public double SumDeviation => ForwardPassMilliseconds > 0 ? Math.Abs(LayersMilliseconds - ForwardPassMilliseconds) / ForwardPassMilliseconds : 0;
}

/// <summary>
/// Times every node of a graph on the <see cref="ReferenceExecutor"/>, warm, as the median of
/// several runs. Epilogue fusion stays off, so each step is one node and each time is one layer's.
/// Each measured run is also timed as a whole, around the executor's run (shape lookup, planning and
/// buffers included): the per-step times must account for it, and both see the same state of the
/// machine, so a busy machine shows in both rather than as a gap between them. Timing the steps costs
/// two clock reads per step, nothing beside the run.
/// </summary>
public static class LayerProfiler
{
    public static GraphProfile Measure(Graph graph, IReadOnlyDictionary<string, Tensor> inputs, ProfileOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        options.Check(SourceLocation.None);
        var threads = options.Threads ?? Environment.ProcessorCount;
        var executor = new ReferenceExecutor(graph, new ExecutionOptions { MaxDegreeOfParallelism = threads, FuseEpilogues = false });
        for (var i = 0; i < options.Warmup; i++)
        {
            executor.Run(inputs);
        }

        var clock = new StepClock(options.Runs);
        var whole = new double[options.Runs];
        for (var run = 0; run < options.Runs; run++)
        {
            clock.Run = run;
            var started = Stopwatch.GetTimestamp();
            executor.Run(inputs, outputs: null, clock);
            whole[run] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        var layers = clock.Steps
            .Select((step, index) => new LayerTiming(index, step.Node.Origin, step.Node.Name, step.Node.OpType, CategoryOf(step.Node), Median(step.Times)))
            .ToList();
        var coverage = new double[options.Runs];
        for (var run = 0; run < options.Runs; run++)
        {
            var steps = 0.0;
            foreach (var step in clock.Steps)
            {
                steps += step.Times[run];
            }

            coverage[run] = whole[run] > 0 ? steps / whole[run] : 0;
        }

        return new GraphProfile(layers, Median(whole), options.Runs, options.Warmup, threads) { StepCoverage = Median(coverage) };
    }

    /// <summary>Convolutions (and deconvolutions), fully connected and locally connected layers and matrix products are tensor layers.</summary>
    public static LayerCategory CategoryOf(Node node) =>
        OpRegistry.Get(node) is Conv or ConvTranspose or FullyConnected or LocallyConnected or MatMul ? LayerCategory.Tensor : LayerCategory.NonTensor;

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Per step, its time in each run; the plan is the same every run, so step numbers line up.</summary>
    private sealed class StepClock(int runs) : IStepObserver
    {
        public int Run { get; set; }

        public List<(Node Node, double[] Times)> Steps { get; } = [];

        public void StepRan(int step, IReadOnlyList<Node> nodes, TimeSpan elapsed)
        {
            if (step == Steps.Count)
            {
                Steps.Add((nodes[0], new double[runs]));
            }

            Steps[step].Times[Run] = elapsed.TotalMilliseconds;
        }
    }
}
