using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Architecture.Tests;

/// <summary>
/// The layering of docs/architecture.md holds in the shipped assemblies: the IR uses no operator,
/// pass or format; operators, passes, analysis and execution use no format; formats are independent
/// of each other; the engine uses no MSBuild or console library; the MSBuild tasks and the tool are
/// siblings over the engine. The same rules run on a miniature engine that breaks each one, so
/// every rule is shown to fail when broken.
/// </summary>
[TestClass]
public sealed class LayeringTests
{
    private const string EngineRoot = "NeuralBuild.Engine";
    private const string SampleRoot = "NeuralBuild.Architecture.Tests.Samples";

    [TestMethod]
    public void The_engine_keeps_its_layering()
    {
        var engine = typeof(Graph).Assembly;
        var edges = TypeDependencies.Of(engine, EngineRoot);
        // Guard against a scan that finds nothing and so passes vacuously.
        Assert.IsGreaterThan(500, edges.Count);
        var violations = Layering.Violations(edges, EngineRoot);
        Assert.IsEmpty(violations, string.Join("\n", violations));
    }

    [TestMethod]
    public void Only_operators_read_attributes_by_name()
    {
        var engine = typeof(Graph).Assembly;
        var calls = TypeDependencies.Calls(engine, EngineRoot);
        // The operators themselves do read by name: a scan that misses them would pass vacuously.
        Assert.IsTrue(calls.Any(c => c.From.Namespace == EngineRoot + ".Ops" && c.Called.DeclaringType == typeof(Attributes) && c.Called.Name == "Int"));
        var violations = Layering.AttributeReadsOutsideOperators(calls, EngineRoot);
        Assert.IsEmpty(violations, string.Join("\n", violations));
    }

    [TestMethod]
    public void Reading_an_attribute_by_name_outside_its_operator_fails()
    {
        var calls = TypeDependencies.Calls(typeof(LayeringTests).Assembly, SampleRoot);
        CollectionAssert.AreEqual(
            new[] { "Passes.FoldBatchNorm reads Ir.Attributes.Int by name: only an operator reads its attributes by name; others use its typed record" },
            Layering.AttributeReadsOutsideOperators(calls, SampleRoot).ToArray());
    }

    [TestMethod]
    public void Each_rule_fails_on_a_deliberate_violation()
    {
        var edges = TypeDependencies.Of(typeof(LayeringTests).Assembly, SampleRoot);
        var violations = Layering.Violations(edges, SampleRoot);
        CollectionAssert.AreEquivalent(
            new[]
            {
                "Formats.Onnx.OnnxNode uses Formats.Darknet.DarknetLayer: formats are independent of each other",
                "Ir.Node uses Formats.Onnx.OnnxNode: the IR uses only Ir, Diagnostics, Numerics",
                "Ops.Conv uses System.Console: the engine uses no MSBuild or console library (Tasks and Tool are its hosts)",
                "Passes.FoldBatchNorm uses Formats.Darknet.DarknetLayer: Passes is format-neutral and uses no format",
                "Pipeline.Optimizer uses Formats.Darknet.DarknetLayer: the pipeline reaches formats only through IModelFormat and ModelFormats",
            },
            violations.ToArray(),
            string.Join("\n", violations));
    }

    [TestMethod]
    public void The_tasks_and_the_tool_are_siblings_over_the_engine()
    {
        var tasks = References("NeuralBuild.Tasks.dll");
        var tool = References("dotnet-neural.dll");
        CollectionAssert.Contains(tasks, "NeuralBuild.Engine");
        CollectionAssert.Contains(tool, "NeuralBuild.Engine");
        CollectionAssert.DoesNotContain(tasks, "dotnet-neural");
        CollectionAssert.DoesNotContain(tool, "NeuralBuild.Tasks");
        CollectionAssert.DoesNotContain(References("NeuralBuild.Engine.dll"), "NeuralBuild.Tasks");
        CollectionAssert.DoesNotContain(References("NeuralBuild.Engine.dll"), "dotnet-neural");
    }

    [TestMethod]
    [DataRow("NeuralBuild.Tasks.dll")]
    [DataRow("dotnet-neural.dll")]
    public void The_hosts_name_no_format(string assembly)
    {
        // The build and the tool reach every format through ModelFormats / IModelFormat and pass
        // format options as name=value: a type from a format's own namespace would tie them to it.
        var formatTypes = TypeReferences(assembly).Where(t => t.Namespace.StartsWith("NeuralBuild.Engine.Formats.", StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(formatTypes, string.Join("\n", formatTypes));
        // Guard: the scan does see the engine types the host uses.
        CollectionAssert.Contains(TypeReferences(assembly), ("NeuralBuild.Engine.Formats", "ModelFormats"));
    }

    [TestMethod]
    public void The_hosts_the_pipeline_and_the_targets_name_no_format_in_their_code()
    {
        // Type references are not all: a format's name in a string or a condition would tie a host
        // to it just as well. Comments may give a format as an example.
        var root = RepositoryRoot();
        var sources = new[] { "src/Tasks", "src/Tool", "src/Engine/Pipeline", "build" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            .Where(path => Path.GetExtension(path) is ".cs" or ".targets" or ".props")
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => (Path.GetRelativePath(root, path), File.ReadAllText(path)))
            .ToList();

        Assert.IsGreaterThan(20, sources.Count, "the scan sees the hosts' sources");
        var mentions = FormatMentions(sources, FormatNames());
        Assert.IsEmpty(mentions, string.Join("\n", mentions));
    }

    [TestMethod]
    public void A_format_named_in_host_code_fails()
    {
        var mentions = FormatMentions(
            [("Sample.cs", "// Darknet: a comment may name it\nvar dialect = \"darknet\";"),
             ("Sample.targets", "<!-- Caffe in a comment -->\n<Target Condition=\"'%(Extension)' == '.onnx'\" />")],
            FormatNames());
        CollectionAssert.AreEqual(new[] { "Sample.cs:2: darknet", "Sample.targets:2: onnx" }, mentions);
    }

    private static string[] FormatNames() => [.. Engine.Formats.ModelFormats.All.Select(f => f.DisplayName)];

    /// <summary>"file:line: name" for each code line (comments left out) that names a format, as a word, in any case.</summary>
    private static List<string> FormatMentions(IEnumerable<(string Path, string Text)> sources, IReadOnlyList<string> names)
    {
        var word = new System.Text.RegularExpressions.Regex($@"\b({string.Join("|", names)})\b", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        var xmlComment = new System.Text.RegularExpressions.Regex("<!--.*?-->", System.Text.RegularExpressions.RegexOptions.Singleline);
        var mentions = new List<string>();
        foreach (var (path, text) in sources)
        {
            // XML comments are blanked line for line, so line numbers still point into the file.
            var code = xmlComment.Replace(text, m => new string('\n', m.Value.Count(c => c == '\n')));
            var lines = code.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                mentions.AddRange(word.Matches(lines[i]).Select(m => $"{path}:{i + 1}: {m.Value}"));
            }
        }

        return mentions;
    }

    internal static string RepositoryRoot()
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

    /// <summary>Namespaces and names of the types a built assembly references from other assemblies, read from its metadata.</summary>
    private static List<(string Namespace, string Name)> TypeReferences(string fileName)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, fileName));
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return [.. metadata.TypeReferences.Select(h => metadata.GetTypeReference(h)).Select(t => (metadata.GetString(t.Namespace), metadata.GetString(t.Name)))];
    }

    /// <summary>Assembly names a built assembly references, read from its metadata (nothing is loaded).</summary>
    private static List<string> References(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, fileName);
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return [.. metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name))];
    }
}
