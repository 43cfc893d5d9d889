using System.Globalization;
using BenchmarkDotNet.Running;

namespace NeuralBuild.Benchmarks.Inspect;

/// <summary>
/// <c>dotnet run -c Release --project bench/Inspect -- --filter '*'</c> runs the benchmarks;
/// <c>-- corpus</c> prints which cfgs the engine analyses and which it refuses (and why).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["corpus"])
        {
            return PrintCorpus();
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    private static int PrintCorpus()
    {
        var files = Corpus.Files();
        var outcome = Corpus.AnalyseAll(files);
        foreach (var group in files.GroupBy(f => f.Corpus))
        {
            var refused = outcome.Refused.Count(r => r.File.Corpus == group.Key);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{group.Key}: {group.Count() - refused} of {group.Count()} analysed ({Path.GetDirectoryName(group.First().Path)})"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total: {outcome.Analysed} of {outcome.Total} analysed, {outcome.Refused.Count} refused"));
        foreach (var (file, error) in outcome.Refused)
        {
            Console.WriteLine($"  refused {file.Corpus}/{Path.GetFileName(file.Path)}: {error.Code} {error.Message}");
        }

        return 0;
    }
}
