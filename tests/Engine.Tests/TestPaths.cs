namespace NeuralBuild.Engine.Tests;

/// <summary>Where test inputs live: the repository's corpus/ (real cfgs and prototxts), Debian's darknet cfgs, the repo.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindUp("NeuralBuild.slnx");

    /// <summary>corpus/ in the repository (the 87 AlexeyAB cfgs and the Caffe prototxts; corpus/README.md).</summary>
    public static string CorpusRoot { get; } = Path.Combine(RepoRoot, "corpus");

    public static string DarknetCorpus => Path.Combine(CorpusRoot, "darknet");

    public static string CaffeCorpus => Path.Combine(CorpusRoot, "caffe");

    /// <summary>Debian package darknet's cfgs (installed by .ci/run).</summary>
    public const string DebianDarknetCfg = "/usr/share/darknet/cfg";

    public static string Corpus(string name) => Path.Combine(DarknetCorpus, name);

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
