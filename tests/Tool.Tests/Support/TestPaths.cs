namespace NeuralBuild.Tool.Tests.Support;

/// <summary>The shared corpus beside the checkout.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindUp("NeuralBuild.slnx");

    public static string DarknetCorpus => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpus", "darknet"));

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
