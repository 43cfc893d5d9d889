namespace NeuralBuild.Architecture.Tests;

/// <summary>
/// No source file of the product is over <see cref="MaxLines"/> lines (docs/architecture.md): a file
/// that long holds more than one idea, and the next person to extend it must read all of them. The
/// rule also runs on a deliberately long sample, so it is shown to fail when broken.
/// </summary>
[TestClass]
public sealed class SourceFileSizeTests
{
    private const int MaxLines = 600;

    [TestMethod]
    public void No_product_source_file_is_over_600_lines()
    {
        var root = LayeringTests.RepositoryRoot();
        var sources = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => (Path.GetRelativePath(root, path).Replace('\\', '/'), File.ReadAllText(path)))
            .ToList();

        // Guard against a scan that finds nothing and so passes vacuously.
        Assert.IsGreaterThan(200, sources.Count);
        var oversized = Oversized(sources);
        Assert.IsEmpty(oversized, string.Join("\n", oversized));
    }

    [TestMethod]
    public void A_file_over_600_lines_fails()
    {
        var exactly = string.Join('\n', Enumerable.Repeat("x", MaxLines)) + "\n";
        var over = exactly + "one line too many\n";
        CollectionAssert.AreEqual(
            new[] { "src/Long.cs: 601 lines (at most 600)" },
            Oversized([("src/Short.cs", exactly), ("src/Long.cs", over)]));
    }

    /// <summary>"path: N lines" for every source over the limit; a final newline does not start a line.</summary>
    private static List<string> Oversized(IEnumerable<(string Path, string Text)> sources) =>
        [.. sources
            .Select(s => (s.Path, Lines: s.Text.Count(c => c == '\n') + (s.Text.Length > 0 && s.Text[^1] != '\n' ? 1 : 0)))
            .Where(s => s.Lines > MaxLines)
            .Select(s => $"{s.Path}: {s.Lines} lines (at most {MaxLines})")];
}
