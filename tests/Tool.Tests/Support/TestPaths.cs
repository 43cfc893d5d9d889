namespace NeuralBuild.Tool.Tests.Support;

/// <summary>The repository's corpus/ of real Darknet cfgs (corpus/README.md).</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindUp("NeuralBuild.slnx");

    public static string DarknetCorpus => Path.Combine(RepoRoot, "corpus", "darknet");

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
