using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;

namespace NeuralBuild.Benchmarks.Inspect;

/// <summary>One cfg of a corpus and how to open it (the Debian cfgs are pjreddie's dialect).</summary>
public sealed record CorpusFile(string Corpus, string Path, ModelReadOptions Options);

/// <summary>What one pass over the corpora did.</summary>
public sealed record CorpusOutcome(int Analysed, IReadOnlyList<(CorpusFile File, NeuralException Error)> Refused)
{
    public int Total => Analysed + Refused.Count;
}

/// <summary>The two Darknet corpora the benchmarks read: the shared AlexeyAB one and Debian's darknet package.</summary>
public static class Corpus
{
    /// <summary>Debian package darknet (pjreddie's cfgs); `apt-get install darknet`.</summary>
    public const string DebianDarknetCfg = "/usr/share/darknet/cfg";

    public static string RepoRoot { get; } = FindUp("NeuralBuild.slnx");

    /// <summary>corpus/darknet in the repository (87 AlexeyAB cfgs).</summary>
    public static string SharedDarknet { get; } = System.IO.Path.Combine(RepoRoot, "corpus", "darknet");

    public static string Shared(string fileName) => System.IO.Path.Combine(SharedDarknet, fileName);

    /// <summary>Every *.cfg of both corpora, sorted; fails when a corpus is missing rather than measuring less.</summary>
    public static IReadOnlyList<CorpusFile> Files()
    {
        var alexeyAb = new ModelReadOptions { DarknetDialect = DarknetDialect.AlexeyAB };
        var pjreddie = new ModelReadOptions { DarknetDialect = DarknetDialect.Pjreddie };
        return [.. List("shared", SharedDarknet, alexeyAb), .. List("debian", DebianDarknetCfg, pjreddie)];
    }

    /// <summary>Reads and analyses every file; the engine's refusals (NeuralException) are counted, anything else escapes.</summary>
    public static CorpusOutcome AnalyseAll(IReadOnlyList<CorpusFile> files)
    {
        var analysed = 0;
        List<(CorpusFile, NeuralException)>? refused = null;
        foreach (var file in files)
        {
            try
            {
                var report = CostModel.Analyze(ModelFormats.Read(file.Path, file.Options), CountingConvention.Default);
                if (report.Layers.Count > 0)
                {
                    analysed++;
                }
            }
            catch (NeuralException e)
            {
                (refused ??= []).Add((file, e));
            }
        }

        return new CorpusOutcome(analysed, refused ?? []);
    }

    private static IEnumerable<CorpusFile> List(string corpus, string directory, ModelReadOptions options)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Corpus '{corpus}' not found at {directory}" +
                (corpus == "debian" ? " (apt-get install darknet)." : " (corpus/ of the repository)."));
        }

        return Directory.GetFiles(directory, "*.cfg")
            .Order(StringComparer.Ordinal)
            .Select(path => new CorpusFile(corpus, path, options));
    }

    private static string FindUp(string marker)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, marker)))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"{marker} not found above {AppContext.BaseDirectory}.");
    }
}
