using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.SyntheticWeights;

// Executor throughput against libdarknet's own forward pass on the same cfg, weights and input,
// in the same run. Darknet is timed inside C around network_predict (bench harness =
// tests/Engine.Tests/Execution/darknet-harness.c); the executor around ReferenceExecutor.Run, as
// given (each node its own kernel, as verification runs an original) and with FuseEpilogues (conv,
// BatchNorm and activation as one pass, as verification runs an optimised model).
// Rounds alternate darknet and executor blocks so that load from other processes hits both alike.
//
// usage: NeuralBuild.Bench.Executor [--cfg PATH] [--rounds N] [--iterations N]
var cfg = Option("--cfg", "/usr/share/darknet/cfg/yolov3-tiny.cfg");
var rounds = int.Parse(Option("--rounds", "3"), CultureInfo.InvariantCulture);
var iterations = int.Parse(Option("--iterations", "10"), CultureInfo.InvariantCulture);
var work = Path.Combine(Path.GetTempPath(), $"neuralbuild-executor-bench-{Environment.ProcessId}");
Directory.CreateDirectory(work);
try
{
    var harness = CompileHarness(work);
    var weights = Path.Combine(work, "model.weights");
    var model = ModelFormats.Read(cfg, new ModelReadOptions { DarknetDialect = DarknetDialect.Pjreddie });
    DarknetSyntheticWeights.Write(model, weights, new SyntheticWeightsOptions { Seed = 1 });
    model = ModelFormats.Read(cfg, new ModelReadOptions { WeightsPath = weights, DarknetDialect = DarknetDialect.Pjreddie });
    var shape = model.Graph.Inputs.Values.Single();
    var random = new Random(1);
    var input = new float[shape.ElementCount];
    for (var i = 0; i < input.Length; i++)
    {
        input[i] = (float)random.NextDouble();
    }

    var inputPath = Path.Combine(work, "input.bin");
    var bytes = new byte[input.Length * sizeof(float)];
    Buffer.BlockCopy(input, 0, bytes, 0, bytes.Length);
    File.WriteAllBytes(inputPath, bytes);
    var flops = CostModel.Analyze(model).Totals.Flops;

    var inputs = new Dictionary<string, Tensor> { [model.Graph.Inputs.Keys.Single()] = new Tensor(shape, input) };
    var fused = new ExecutionOptions { FuseEpilogues = true };
    var one = new ExecutionOptions { MaxDegreeOfParallelism = 1 };
    var executors = new (string Name, ReferenceExecutor Executor, List<double> Times)[]
    {
        ($"ReferenceExecutor.Run ({Environment.ProcessorCount} threads, as given)", new ReferenceExecutor(model.Graph), []),
        ($"ReferenceExecutor.Run ({Environment.ProcessorCount} threads, FuseEpilogues)", new ReferenceExecutor(model.Graph, fused), []),
        ("ReferenceExecutor.Run (1 thread, as given)", new ReferenceExecutor(model.Graph, one), []),
        ("ReferenceExecutor.Run (1 thread, FuseEpilogues)", new ReferenceExecutor(model.Graph, one with { FuseEpilogues = true }), []),
    };
    for (var i = 0; i < 3; i++)
    {
        // Warm-up: JIT, weight loading and packing, buffer pool.
        foreach (var (_, executor, _) in executors)
        {
            executor.Run(inputs);
        }
    }

    List<double> darknet = [];
    for (var round = 0; round < rounds; round++)
    {
        darknet.AddRange(TimeDarknet(harness, cfg, weights, inputPath, work, iterations));
        foreach (var (_, executor, times) in executors)
        {
            times.AddRange(Time(executor, inputs, iterations));
        }
    }

    Console.WriteLine($"model: {Path.GetFileName(cfg)} at {shape}, {flops / 1e9:0.###} GFLOP per forward pass (darknet's count)");
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}, .NET {Environment.Version}, Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}, Vector256 {(Vector256.IsHardwareAccelerated ? "on" : "off")}");
    Console.WriteLine($"samples: {rounds} rounds x {iterations} forward passes each, alternating");
    Console.WriteLine();
    Console.WriteLine("| forward pass | median ms | min ms | mean ms | GFLOP/s (median) | speed-up vs darknet (median) |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    var darknetMedian = Median(darknet);
    Row("libdarknet network_predict (1 thread)", darknet, flops, darknetMedian);
    foreach (var (name, _, times) in executors)
    {
        Row(name, times, flops, darknetMedian);
    }

    return 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}

string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

static List<double> Time(ReferenceExecutor executor, Dictionary<string, Tensor> inputs, int iterations)
{
    var times = new List<double>();
    for (var i = 0; i < iterations; i++)
    {
        var watch = Stopwatch.StartNew();
        executor.Run(inputs);
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    return times;
}

static List<double> TimeDarknet(string harness, string cfg, string weights, string input, string work, int iterations)
{
    var (exitCode, stdout, stderr) = Execute(harness, [cfg, weights, input, Path.Combine(work, "darknet.out"), iterations.ToString(CultureInfo.InvariantCulture)]);
    if (exitCode != 0)
    {
        throw new InvalidOperationException($"darknet-harness failed ({exitCode}): {stderr[^Math.Min(2000, stderr.Length)..]}");
    }

    return [.. stdout.Split('\n').Where(l => l.StartsWith("forward_ms ", StringComparison.Ordinal))
        .Select(l => double.Parse(l["forward_ms ".Length..], CultureInfo.InvariantCulture))];
}

static string CompileHarness(string work)
{
    var root = AppContext.BaseDirectory;
    while (!File.Exists(Path.Combine(root, "NeuralBuild.slnx")))
    {
        root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run from inside the repository (NeuralBuild.slnx not found).");
    }

    var source = Path.Combine(root, "tests", "Engine.Tests", "Execution", "darknet-harness.c");
    var binary = Path.Combine(work, "darknet-harness");
    var (exitCode, _, stderr) = Execute("gcc", ["-O2", "-o", binary, source, "-I/usr/lib/darknet/include", "-L/usr/lib/darknet", "-ldarknet", "-Wl,-rpath,/usr/lib/darknet"]);
    return exitCode == 0 ? binary : throw new InvalidOperationException($"gcc could not build the harness (Debian packages gcc and darknet needed): {stderr}");
}

static (int ExitCode, string StdOut, string StdErr) Execute(string file, IEnumerable<string> arguments)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    process.WaitForExit();
    return (process.ExitCode, stdout.Result, stderr.Result);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static void Row(string name, List<double> times, long flops, double darknetMedian)
{
    var median = Median(times);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {median:0.0} | {times.Min():0.0} | {times.Average():0.0} | {flops / median / 1e6:0.0} | {darknetMedian / median:0.00}x |"));
}

static string CpuModel()
{
    var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
    return line is null ? "unknown CPU" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
}
