using System.Collections.Concurrent;
using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// A Darknet class tree (<c>tree=</c> of [softmax] and [region], e.g. data/9k.tree for YOLO9000): one
/// line per class, "<c>name parent</c>", the parent a line index or -1 for a root. What a hierarchical
/// softmax needs of it is its groups: darknet's read_tree starts a new group wherever a line's parent
/// differs from the line before, so a group is a run of consecutive siblings, and the softmax is taken
/// over each run separately. A run before the first change of parent that is empty (the first line's
/// parent is not -1) is kept as darknet keeps it: a group of size 0.
/// </summary>
internal static class DarknetClassTree
{
    /// <summary>A class tree is text of a few hundred KB (9k.tree: 9,418 lines, 154 KB); beyond this it is not one.</summary>
    private const long MaxFileBytes = 64L << 20;

    /// <summary>
    /// Sets a hierarchical layer's groups from its <c>tree=</c>: <paramref name="attribute"/> gets the
    /// tree's group sizes; a tree file that is not found leaves the reason in <c>missing_file</c>
    /// instead, because only computing the layer needs the groups (its costs do not), so a model is still
    /// analysed without the tree and fails with NM0027 only when it is run or exported.
    /// </summary>
    public static void SetGroups(Attributes attributes, CfgSection section, string attribute)
    {
        if (section.Find("tree") is not { } option)
        {
            return;
        }

        var candidates = Candidates(option.Value, option.Location.File);
        if (candidates.FirstOrDefault(File.Exists) is { } path)
        {
            attributes.Set(attribute, GroupSizes(path));
            return;
        }

        attributes.Set("missing_file",
            $"the class tree '{option.Value}' (tree= at {option.Location}) was not found (looked at {string.Join(", ", candidates.Select(c => $"'{c}'"))}); a hierarchical softmax needs its groups of sibling classes. Put the tree file there (darknet's data/9k.tree for YOLO9000) or give its absolute path.");
    }

    /// <summary>The class trees a cfg's <c>tree=</c> options name that exist where <see cref="SetGroups"/> looks; a line scan, so a cfg the reader would refuse still answers.</summary>
    public static IReadOnlyList<string> ReferencedBy(string cfgPath)
    {
        if (!File.Exists(cfgPath))
        {
            return [];
        }

        return [.. File.ReadLines(cfgPath)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim() == "tree")
            .Select(parts => Candidates(parts[1].Trim(), cfgPath).FirstOrDefault(File.Exists))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Where darknet would find <paramref name="treePath"/>: as written when absolute; otherwise beside
    /// the cfg, then in the cfg's parent folder (darknet resolves it against its working directory, the
    /// darknet root that holds cfg/ and data/ side by side).
    /// </summary>
    private static string[] Candidates(string treePath, string cfgPath)
    {
        if (Path.IsPathRooted(treePath))
        {
            return [treePath];
        }

        var cfgFolder = Path.GetDirectoryName(Path.GetFullPath(cfgPath)) ?? ".";
        return new[] { Path.Combine(cfgFolder, treePath), Path.Combine(Path.GetDirectoryName(cfgFolder) ?? cfgFolder, treePath) }.Distinct().ToArray();
    }

    /// <summary>
    /// Trees already cut, by path, length and write time: YOLO9000's cfg names its 9,418-line tree
    /// twice, and a build or a corpus run reads the same tree for many models. A changed file has a
    /// new key, so it is read again.
    /// </summary>
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime Written), long[]> s_read = new();

    /// <summary>The sizes of the tree's groups of consecutive siblings, in file order; they add up to its line count.</summary>
    public static long[] GroupSizes(string path)
    {
        var file = new FileInfo(path);
        return (long[])s_read.GetOrAdd((file.FullName, file.Length, file.LastWriteTimeUtc), _ => Read(path, file.Length)).Clone();
    }

    private static long[] Read(string path, long length)
    {
        if (length > MaxFileBytes)
        {
            throw DiagnosticCodes.ClassTreeMalformed.Exception(new SourceLocation(path),
                $"class tree '{path}' is {length:N0} bytes; a class tree is one short line per class, so NeuralBuild reads at most {MaxFileBytes:N0}.");
        }

        var sizes = new List<long>();
        var lineNumber = 0;
        long currentParent = -1;
        long currentSize = 0;
        var parents = new List<long>();
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var parent = ParseParent(line, lineNumber, path);
            if (parent != currentParent)
            {
                sizes.Add(currentSize);
                currentSize = 0;
                currentParent = parent;
            }

            parents.Add(parent);
            currentSize++;
        }

        if (parents.Count == 0)
        {
            throw DiagnosticCodes.ClassTreeMalformed.Exception(new SourceLocation(path), $"class tree '{path}' has no classes.");
        }

        // Darknet indexes its child table by the parent: one past the last class is out of the tree.
        if (parents.FindIndex(p => p >= parents.Count) is var bad and >= 0)
        {
            throw DiagnosticCodes.ClassTreeMalformed.Exception(new SourceLocation(path, bad + 1, 1),
                $"class {bad} names parent {parents[bad]}, but the tree has only {parents.Count} classes (numbered by line from 0; a root has parent -1).");
        }

        sizes.Add(currentSize);
        return [.. sizes];
    }

    // Darknet reads each line with sscanf("%s %d"): a missing parent leaves -1, a root.
    private static long ParseParent(string line, int lineNumber, string path)
    {
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2)
        {
            return -1;
        }

        if (!long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parent) || parent < -1)
        {
            var column = line.IndexOf(fields[1], line.IndexOf(fields[0], StringComparison.Ordinal) + fields[0].Length, StringComparison.Ordinal) + 1;
            throw DiagnosticCodes.ClassTreeMalformed.Exception(new SourceLocation(path, lineNumber, column),
                $"'{fields[1]}' is not a parent class: expected the line index of the parent (from 0) or -1 for a root.");
        }

        return parent;
    }
}
