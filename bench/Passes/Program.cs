using System.Globalization;
using BenchmarkDotNet.Running;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Benchmarks.Passes;

/// <summary>
/// <c>dotnet run -c Release --project bench/Passes -- --filter '*'</c> runs the benchmarks;
/// <c>-- probe</c> prints, per model, the bytes each phase and each pass allocates (one warmed-up
/// run, <see cref="GC.GetAllocatedBytesForCurrentThread"/>) next to the graph's size.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["probe"])
        {
            Probe();
            return 0;
        }

        if (args is ["fuse-check", var output, .. var extra])
        {
            FuseCheck(output, extra);
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    private static void Probe()
    {
        Console.WriteLine("| model | cfg bytes | nodes before | nodes after | folds | read | analyse | passes | analyse after | total | total / node |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var perPass = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var name in FuseModels.Names)
        {
            var options = FuseModels.WithWeights(name);
            var cfg = FuseModels.Cfg(name);
            ProbeOnce(cfg, options, []); // JIT and first-use allocations out of the figures
            var passBytes = new Dictionary<string, long>(StringComparer.Ordinal);
            var (phases, nodesBefore, nodesAfter, folds) = ProbeOnce(cfg, options, passBytes);
            perPass[name] = passBytes;
            var total = phases.Sum();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {new FileInfo(cfg).Length:N0} | {nodesBefore} | {nodesAfter} | {folds} | {Mb(phases[0])} | {Mb(phases[1])} | {Mb(phases[2])} | {Mb(phases[3])} | {Mb(total)} | {total / nodesBefore / 1024.0:F1} KB |"));
        }

        Console.WriteLine();
        Console.WriteLine("| model | fuse --verify none (ModelOptimizer.Optimize) |");
        Console.WriteLine("|---|---:|");
        foreach (var name in FuseModels.Names)
        {
            var output = Path.Combine(FuseModels.WorkDirectory, "fused-" + name);
            var request = new OptimizeRequest
            {
                DefinitionPath = FuseModels.Cfg(name),
                WeightsPath = FuseModels.WithWeights(name).WeightsPath,
                Verify = VerifyMode.None,
                OutputDirectory = output,
            };
            var mark = GC.GetAllocatedBytesForCurrentThread();
            ModelOptimizer.Optimize(request);
            Console.WriteLine($"| {name} | {Mb(GC.GetAllocatedBytesForCurrentThread() - mark)} |");
        }

        Console.WriteLine();
        var passNames = PassManager.Default.Select(p => p.Name).ToList();
        Console.WriteLine($"| model | {string.Join(" | ", passNames)} |");
        Console.WriteLine($"|---|{string.Concat(passNames.Select(_ => "---:|"))}");
        foreach (var (name, bytes) in perPass)
        {
            Console.WriteLine($"| {name} | {string.Join(" | ", passNames.Select(p => Mb(bytes.GetValueOrDefault(p))))} |");
        }
    }

    /// <summary>
    /// Fuses the benchmark's models (and any further definitions, weights beside them) with
    /// <c>--verify none</c> into <paramref name="output"/> and prints the sha256 of every file
    /// written and of the pass log, so that two builds of the engine can be compared byte for byte.
    /// </summary>
    private static void FuseCheck(string output, IEnumerable<string> extraDefinitions)
    {
        var requests = FuseModels.Names.Select(name => (FuseModels.Cfg(name), FuseModels.WithWeights(name).WeightsPath))
            .Concat(extraDefinitions.Select(path => (path, (string?)null)));
        foreach (var (definition, weights) in requests)
        {
            var folder = Path.Combine(output, Path.GetFileName(definition));
            var result = ModelOptimizer.Optimize(new OptimizeRequest
            {
                DefinitionPath = definition,
                WeightsPath = weights,
                Verify = VerifyMode.None,
                OutputDirectory = folder,
            });
            var log = Path.Combine(output, Path.GetFileName(definition) + ".passes.log");
            File.WriteAllLines(log, result.PassLog);
            foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal).Append(log))
            {
                using var stream = File.OpenRead(file);
                Console.WriteLine($"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream))}  {Path.GetRelativePath(output, file)}");
            }
        }
    }

    private static (long[] Phases, int NodesBefore, int NodesAfter, int Folds) ProbeOnce(string cfg, ModelReadOptions options, Dictionary<string, long> passBytes)
    {
        var phases = new long[4];
        var mark = GC.GetAllocatedBytesForCurrentThread();
        void Lap(int phase)
        {
            var now = GC.GetAllocatedBytesForCurrentThread();
            phases[phase] = now - mark;
            mark = now;
        }

        var model = ModelFormats.Read(cfg, options);
        Lap(0);
        CostModel.Analyze(model);
        Lap(1);
        var nodesBefore = model.Graph.Nodes.Count;
        var report = PassManager.Run(model.Graph, PassManager.Default.Select(p => new MeasuredPass(p, passBytes)));
        Lap(2);
        CostModel.Analyze(model);
        Lap(3);
        return (phases, nodesBefore, model.Graph.Nodes.Count, report.Folds.Count);
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):F2} MB");

    /// <summary>Runs a pass and adds what it allocated, summed over the pass manager's rounds.</summary>
    private sealed class MeasuredPass(GraphPass inner, Dictionary<string, long> bytes) : GraphPass
    {
        public override string Name => inner.Name;

        public override void Run(GraphEditor graph, PassReport report)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            inner.Run(graph, report);
            bytes[Name] = bytes.GetValueOrDefault(Name) + GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }
}
