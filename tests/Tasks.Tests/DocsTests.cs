using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NeuralBuild.Engine.Budgets;

namespace NeuralBuild.Tasks.Tests;

/// <summary>
/// The documentation the repository ships describes the surface the package has: every public
/// <c>NeuralModel</c> metadata and <c>Neural*</c> property is in docs/item-metadata.md, and every doc
/// a file of the repository points at exists in the repository.
/// </summary>
[TestClass]
public sealed partial class DocsTests
{
    /// <summary>
    /// The <see cref="ModelItem"/> names a project sets. The others are written by
    /// <see cref="NeuralResolveModels"/> for the other tasks. Each constant must be in one of the two
    /// lists, so a new one cannot skip the documentation by not being classified.
    /// </summary>
    private static readonly string[] s_publicMetadata =
        ["Weights", "InputShape", "ModelVersion", "Embed", "LogicalName", "Verify", "Dialect", "Fold", "PruneDeadChannels", "LowRankFc", "FormatOptions", "Name", "Export", "ExportOptions", "Quantize", "KeepClasses", "Outputs",
        "EvaluationInputs", "InputMean", "InputScale", "InputStd", "ChannelOrder", "InputResize"];

    private static readonly string[] s_resolvedMetadata =
    [
        "DefinitionPath", "WeightsPath", "OutputDirectory", "OptimizedDefinition", "OptimizedWeights", "MetricsFile", "StampFile", "ReferencedFiles", "ReportFile", "HtmlReportFile",
        "Settings", "ResolvedFormatOptions", "ClassName", "DefinitionResource", "WeightsResource", "DefinitionTargetPath", "WeightsTargetPath",
        "ExportFile", "ExportResource", "ExportTargetPath",
    ];

    private static readonly string[] s_scannedFolders = ["src", "docs", "build", "tests"];

    private static readonly string[] s_textExtensions = [".cs", ".md", ".props", ".targets", ".csproj", ".py", ".sh", ".c", ".txt", ".json"];

    private static string RepoRoot { get; } = FindRepoRoot();

    [TestMethod]
    public void Every_ModelItem_constant_is_classified_as_public_or_resolved()
    {
        var constants = typeof(ModelItem).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();

        var unclassified = constants.Except(s_publicMetadata).Except(s_resolvedMetadata).ToList();
        Assert.IsEmpty(unclassified, "Classify in DocsTests (public: document it in docs/item-metadata.md): " + string.Join(", ", unclassified));
        CollectionAssert.IsSubsetOf(s_publicMetadata, constants, "A public name listed here is no longer a ModelItem constant.");
    }

    [TestMethod]
    public void Item_metadata_doc_lists_every_public_metadata_and_property()
    {
        var budgetMetadata = BudgetMetric.All.SelectMany(m => new[] { m.MaxSetting, m.WarnSetting, m.IncreaseSetting }).ToList();
        var expected = s_publicMetadata
            .Concat(budgetMetadata)
            .Concat(budgetMetadata.Select(b => "Neural" + b))
            .Concat(BuildFileProperties())
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var doc = File.ReadAllText(Path.Combine(RepoRoot, "docs", "item-metadata.md"));

        var missing = expected.Where(name => !doc.Contains($"`{name}`", StringComparison.Ordinal)).ToList();

        Assert.IsEmpty(missing, "docs/item-metadata.md does not document: " + string.Join(", ", missing));
    }

    [TestMethod]
    public void Build_files_define_or_read_the_documented_kinds_of_property()
    {
        // Guards the scan above: it must see the properties the targets are known to read and define.
        var properties = BuildFileProperties();
        CollectionAssert.Contains(properties, "NeuralBaselineFile"); // defined in NeuralBuild.props
        CollectionAssert.Contains(properties, "NeuralMaxMacc"); // read by _NeuralCheckBudgets
        CollectionAssert.Contains(properties, "NeuralAccessorVisibility"); // read by _NeuralGenerateAccessor
        CollectionAssert.DoesNotContain(properties, "_NeuralTaskFactory");
    }

    [TestMethod]
    public void Every_doc_the_repository_mentions_exists_and_none_is_a_shared_design_document()
    {
        var problems = new List<string>();
        foreach (var file in ScannedFiles())
        {
            var relative = Path.GetRelativePath(RepoRoot, file).Replace('\\', '/');
            var text = File.ReadAllText(file);
            foreach (Match m in DocsPath().Matches(text))
            {
                if (!File.Exists(Path.Combine(RepoRoot, "docs", m.Groups[1].Value)))
                {
                    problems.Add($"{relative}:{LineOf(text, m.Index)}: docs/{m.Groups[1].Value} does not exist");
                }
            }

            if (file.EndsWith(".md", StringComparison.Ordinal))
            {
                foreach (Match m in MarkdownLink().Matches(text))
                {
                    var path = m.Groups[1].Value;
                    var anchor = m.Groups[2].Value;
                    var target = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                    if (!File.Exists(target))
                    {
                        problems.Add($"{relative}:{LineOf(text, m.Index)}: link to {path}, which does not exist");
                    }
                    else if (anchor.Length > 0 && !HeadingAnchors(File.ReadAllText(target)).Contains(anchor))
                    {
                        problems.Add($"{relative}:{LineOf(text, m.Index)}: link to {path}#{anchor}, a heading that does not exist");
                    }
                }
            }

            // This file names them to forbid them.
            if (!relative.EndsWith("/" + nameof(DocsTests) + ".cs", StringComparison.Ordinal))
            {
                foreach (Match m in SharedDesignDocument().Matches(text))
                {
                    problems.Add($"{relative}:{LineOf(text, m.Index)}: '{m.Value}' refers to a document outside the repository (docs/metrics.md, docs/folding.md or docs/item-metadata.md hold its content)");
                }
            }
        }

        Assert.IsEmpty(problems, string.Join(Environment.NewLine, problems));
    }

    /// <summary><c>Neural*</c> properties the shipped props/targets define (in a PropertyGroup) or read (<c>$(Neural…)</c>); private ones start with an underscore.</summary>
    private static List<string> BuildFileProperties()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot, "build")).Where(f => f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            var defined = XDocument.Parse(text).Descendants()
                .Where(e => e.Name.LocalName == "PropertyGroup")
                .SelectMany(g => g.Elements())
                .Select(e => e.Name.LocalName);
            var read = PropertyReference().Matches(text).Select(m => m.Groups[1].Value);
            names.UnionWith(defined.Concat(read).Where(n => n.StartsWith("Neural", StringComparison.Ordinal)));
        }

        return [.. names];
    }

    private static IEnumerable<string> ScannedFiles()
    {
        var files = s_scannedFolders
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(RepoRoot, folder), "*", SearchOption.AllDirectories))
            .Where(f => s_textExtensions.Contains(Path.GetExtension(f), StringComparer.Ordinal))
            .Where(f => !Path.GetRelativePath(RepoRoot, f).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));
        return files.Append(Path.Combine(RepoRoot, "README.md"));
    }

    /// <summary>The anchors a Markdown renderer gives the headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> HeadingAnchors(string markdown) =>
        Heading().Matches(markdown)
            .Select(h => string.Concat(h.Groups[1].Value.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')).Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NeuralBuild.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"NeuralBuild.slnx not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>A Markdown file under docs/ named by its path in this repository (not <c>onnx/docs/Operators.md</c>, another project's).</summary>
    [GeneratedRegex(@"(?<![\w/.-])docs/([\w.-]+\.md)")]
    private static partial Regex DocsPath();

    /// <summary>A relative Markdown link to a Markdown file or to a heading: <c>[text](caffe.md#folding)</c>, <c>[text](#writing)</c>.</summary>
    [GeneratedRegex(@"\]\((?!https?:)([^)#\s]+\.md|)(?:#([^)\s]*))?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^#+\s+(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    /// <summary>The shared design documents the repository does not ship, by file name or as a word of a name (<c>Matches_METRICS</c>).</summary>
    [GeneratedRegex(@"(?<![A-Za-z])(DESIGN|METRICS|FUSION)(?![A-Za-z])(\.md)?")]
    private static partial Regex SharedDesignDocument();

    [GeneratedRegex(@"\$\((\w+)\)")]
    private static partial Regex PropertyReference();
}
