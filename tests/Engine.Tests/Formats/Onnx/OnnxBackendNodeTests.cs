using System.Globalization;
using System.Text.RegularExpressions;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// ONNX's own backend node tests (Debian package libonnx-testdata: one model per operator case with
/// its inputs and the outputs ONNX's reference computes). Every test whose nodes all use operators
/// the reader knows (<see cref="OnnxOperatorMap.MappedOperators"/> and
/// <see cref="OnnxOperatorMap.FoldedOperators"/>) is read through the normal reader, run by the
/// <see cref="ReferenceExecutor"/> and compared with ONNX's expected outputs:
/// <c>|actual - expected| &lt;= AbsoluteTolerance + RelativeTolerance * |expected|</c> element by
/// element, shapes exactly. A test that cannot run must be listed in
/// <c>backend-node-exclusions.txt</c> with the category it fails with, which the test checks; a
/// listed test that passes, or fails for another reason, fails too. Inputs the reader needs as
/// constants (Reshape's shape, Pad's pads, Resize's scales, weights: NM0212) are bound to the test
/// data's values as initializers, as an exporter's constant folding would have stored them.
/// Integer data (int8 … int32, uint8, uint16) is fed as float32 only to graphs of operators that
/// merely select or move values (<see cref="s_selectionOnly"/>: Pad, MaxPool, Transpose, …) and only
/// when every value is an integer float32 holds exactly (|v| &lt;= 2^24): such a graph commutes
/// with the exact conversion, so ONNX's integer outputs, converted, are the expected float32 ones.
/// </summary>
[TestClass]
public sealed partial class OnnxBackendNodeTests
{
    /// <summary>Where Debian's libonnx-testdata (ONNX 1.12) installs the node tests.</summary>
    public const string DataRoot = "/usr/share/libonnx-testdata/data/node";

    /// <summary>Relative tolerance: ONNX's backend test runner's default.</summary>
    public const double RelativeTolerance = 1e-3;

    /// <summary>Absolute tolerance for values near zero (float32 sums of a few terms).</summary>
    public const double AbsoluteTolerance = 1e-5;

    private const string Missing = "libonnx-testdata is not installed";

    private static readonly string s_exclusionsPath = Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Formats", "Onnx", "backend-node-exclusions.txt");

    private static readonly string s_documentPath = Path.Combine(TestPaths.RepoRoot, "docs", "onnx-backend-tests.md");

    private static readonly Lazy<IReadOnlyDictionary<string, Exclusion>> s_exclusions = new(() => ReadExclusions(File.ReadAllLines(s_exclusionsPath)));

    private static readonly Lazy<IReadOnlyList<string>> s_inScope = new(FindInScope);

    /// <summary>Operators whose outputs are some of their input values, moved or repeated (a pad value aside): exact on integers held as float32.</summary>
    private static readonly HashSet<string> s_selectionOnly = new(StringComparer.Ordinal)
    {
        "Pad", "MaxPool", "GlobalMaxPool", "Transpose", "Slice", "Concat", "Split", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity",
    };

    private static readonly HashSet<DT> s_exactIntegers = [DT.Int8, DT.Uint8, DT.Int16, DT.Uint16, DT.Int32];

    /// <summary>One row per in-scope node test; a single placeholder row when the data is missing, so that the suite fails rather than runs nothing.</summary>
    public static IEnumerable<object[]> NodeTests =>
        Directory.Exists(DataRoot) ? s_inScope.Value.Select(name => new object[] { name }) : [[Missing]];

    [TestMethod]
    [DynamicData(nameof(NodeTests))]
    public void Node_test_passes_or_fails_as_listed(string name)
    {
        RequireData();
        var outcome = Run(Path.Combine(DataRoot, name));
        if (s_exclusions.Value.TryGetValue(name, out var listed))
        {
            if (outcome.Passed)
            {
                Assert.Fail($"{name} is listed in backend-node-exclusions.txt ({listed.Category}: {listed.Reason}) but passes now; remove its line.");
            }

            Assert.AreEqual(listed.Category, outcome.Category,
                $"{name} is listed as {listed.Category} ({listed.Reason}) but fails as {outcome.Category}: {outcome.Message}");
            return;
        }

        if (!outcome.Passed)
        {
            Assert.Fail($"{name} fails ({outcome.Category}): {outcome.Message}\nFix the reader or kernel, or list the test with its reason in backend-node-exclusions.txt.");
        }
    }

    [TestMethod]
    public void The_ONNX_test_data_is_installed() => RequireData();

    /// <summary>
    /// Node tests saved at an opset below 7 whose operators have had no other version up to opset 18
    /// (GlobalAveragePool, GlobalMaxPool and Softplus since opset 1, HardSigmoid and
    /// InstanceNormalization since 6): the same
    /// model read at opset 7 means the same, so its expected outputs hold there. They are listed as
    /// NM0201 in the exclusions; this runs their operators all the same.
    /// </summary>
    [TestMethod]
    [DataRow("test_globalaveragepool")]
    [DataRow("test_globalaveragepool_precomputed")]
    [DataRow("test_globalmaxpool")]
    [DataRow("test_globalmaxpool_precomputed")]
    [DataRow("test_hardsigmoid")]
    [DataRow("test_hardsigmoid_default")]
    [DataRow("test_hardsigmoid_example")]
    [DataRow("test_instancenorm_epsilon")]
    [DataRow("test_instancenorm_example")]
    [DataRow("test_softplus")]
    [DataRow("test_softplus_example")]
    public void Unchanged_operators_run_at_opset_7(string name)
    {
        RequireData();
        var outcome = Run(Path.Combine(DataRoot, name), model =>
        {
            foreach (var import in model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx"))
            {
                Assert.IsLessThan(7L, import.Version, $"{name} imports opset {import.Version}");
                import.Version = 7;
            }
        });
        Assert.IsTrue(outcome.Passed, $"{name} at opset 7 fails ({outcome.Category}): {outcome.Message}");
    }

    [TestMethod]
    public void Every_listed_test_exists_and_is_in_scope()
    {
        RequireData();
        var inScope = s_inScope.Value.ToHashSet(StringComparer.Ordinal);
        var stale = s_exclusions.Value.Keys
            .Where(name => !inScope.Contains(name))
            .Select(name => Directory.Exists(Path.Combine(DataRoot, name)) ? $"{name} (uses an operator the reader does not know)" : $"{name} (no such node test)")
            .ToList();
        Assert.IsEmpty(stale, "backend-node-exclusions.txt lists tests the suite does not run: " + string.Join(", ", stale));
    }

    [TestMethod]
    public void Only_known_categories_are_listed()
    {
        var unknown = s_exclusions.Value.Values.Where(e => !Categories.ContainsKey(e.Category)).Select(e => $"{e.Name}: {e.Category}").ToList();
        Assert.IsEmpty(unknown, "categories must be one of " + string.Join(", ", Categories.Keys) + ": " + string.Join(", ", unknown));
    }

    [TestMethod]
    public void The_document_states_the_current_counts()
    {
        RequireData();
        var document = File.ReadAllText(s_documentPath);
        var total = Directory.GetDirectories(DataRoot, "test_*").Length;
        var inScope = s_inScope.Value.Count;
        var listed = s_exclusions.Value.Count;
        var expected = new List<string>
        {
            $"| node tests in libonnx-testdata | {total} |",
            $"| in scope, run by the suite | {inScope} |",
            $"| passed | {inScope - listed} |",
            $"| listed in backend-node-exclusions.txt | {listed} |",
        };
        foreach (var group in s_exclusions.Value.Values.GroupBy(e => e.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            expected.Add($"| `{group.Key}` | {Categories[group.Key]} | {group.Count()} |");
        }

        var absent = expected.Where(line => !document.Contains(line, StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(absent, "docs/onnx-backend-tests.md lacks these lines (update its tables):\n" + string.Join("\n", absent));
    }

    /// <summary>Why a test may be listed: a diagnostic the reader raises, or a harness-level reason.</summary>
    public static IReadOnlyDictionary<string, string> Categories { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["NM0201"] = "opset outside the supported range",
        ["NM0202"] = "operator only folded on constants, here applied to a computed value",
        ["NM0209"] = "attribute or combination refused at read time",
        ["NM0211"] = "graph input without a tensor shape (optional or sequence types)",
        ["NM0021"] = "the output would be an empty tensor",
        ["dtype"] = "an input to feed or an expected output is not float32 (the executor computes float32)",
        ["folded"] = "the output is computed at read time (constant folding): the graph has no node to run",
    };

    private static void RequireData()
    {
        if (!Directory.Exists(DataRoot))
        {
            Assert.Fail($"{DataRoot} does not exist: install the Debian package libonnx-testdata (scripts/test.sh installs it).");
        }
    }

    private static List<string> FindInScope()
    {
        var known = OnnxOperatorMap.MappedOperators.Concat(OnnxOperatorMap.FoldedOperators).ToHashSet(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var directory in Directory.GetDirectories(DataRoot, "test_*").Order(StringComparer.Ordinal))
        {
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
            if (model.Graph.Node.All(n => n.Domain is "" or "ai.onnx" && known.Contains(n.OpType)))
            {
                names.Add(Path.GetFileName(directory));
            }
        }

        return names;
    }

    private sealed record Exclusion(string Name, string Category, string Reason);

    private static Dictionary<string, Exclusion> ReadExclusions(string[] lines)
    {
        var result = new Dictionary<string, Exclusion>(StringComparer.Ordinal);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = line.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3)
            {
                throw new InvalidOperationException($"backend-node-exclusions.txt: '{line}' is not '<test> <category> <reason>'.");
            }

            if (!result.TryAdd(parts[0], new Exclusion(parts[0], parts[1], parts[2])))
            {
                throw new InvalidOperationException($"backend-node-exclusions.txt lists {parts[0]} twice.");
            }
        }

        return result;
    }

    // ---------------------------------------------------------------------------------------
    // Running one node test.

    private sealed record Outcome(bool Passed, string Category, string Message)
    {
        public static Outcome Pass { get; } = new(true, "passed", string.Empty);

        public static Outcome Fail(string category, string message) => new(false, category, message);
    }

    [GeneratedRegex("computed value '([^']+)'")]
    private static partial Regex ComputedValue();

    private static Outcome Run(string directory, Action<ModelProto>? adjust = null)
    {
        var modelPath = Path.Combine(directory, "model.onnx");
        var data = Path.Combine(directory, "test_data_set_0");
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        adjust?.Invoke(proto);
        var initializers = proto.Graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var graphInputs = proto.Graph.Input.Where(i => !initializers.Contains(i.Name)).Select(i => i.Name).ToList();
        var inputs = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var outputs = new List<(string Name, OnnxTensor Expected)>();
        try
        {
            for (var i = 0; i < graphInputs.Count; i++)
            {
                var file = Path.Combine(data, $"input_{i}.pb");
                if (File.Exists(file))
                {
                    inputs[graphInputs[i]] = OnnxTensor.Load(file);
                }
            }

            for (var i = 0; i < proto.Graph.Output.Count; i++)
            {
                outputs.Add((proto.Graph.Output[i].Name, OnnxTensor.Load(Path.Combine(data, $"output_{i}.pb"))));
            }
        }
        catch (NeuralException e)
        {
            // Strings, optionals and sequences: test data that is no numeric tensor.
            return Outcome.Fail("dtype", $"test data is not a numeric tensor: {e.Message}");
        }

        var selectionOnly = proto.Graph.Node.All(n => s_selectionOnly.Contains(n.OpType));
        bool Feedable(OnnxTensor t) => t.Type == DT.Float
            || (selectionOnly && s_exactIntegers.Contains(t.Type) && t.ToDoubles().All(v => Math.Abs(v) <= 1 << 24));

        // Read; bind each input the reader needs as a constant to its test value, and read again.
        Model model;
        var bound = new List<string>();
        while (true)
        {
            try
            {
                model = bound.Count == 0 && adjust is null
                    ? ModelFormats.Read(modelPath)
                    : new OnnxFormat().Read(modelPath, proto, new ModelReadOptions());
                break;
            }
            catch (NeuralException e) when (e.Code == "NM0212" && ComputedValue().Match(e.Message) is { Success: true } match
                && inputs.TryGetValue(match.Groups[1].Value, out var value) && !bound.Contains(match.Groups[1].Value))
            {
                var name = match.Groups[1].Value;
                var constant = value.Proto.Clone();
                constant.Name = name;
                proto.Graph.Input.Remove(proto.Graph.Input.Single(i => i.Name == name));
                proto.Graph.Initializer.Add(constant);
                bound.Add(name);
            }
            catch (NeuralException e)
            {
                return Outcome.Fail(e.Code, e.Message);
            }
        }

        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in model.Graph.Inputs.Keys)
        {
            if (!inputs.TryGetValue(name, out var value))
            {
                return Outcome.Fail("no-data", $"graph input '{name}' has no test data.");
            }

            if (!Feedable(value))
            {
                return Outcome.Fail("dtype", $"input '{name}' is {value.Type}.");
            }

            feeds[name] = new Tensor(value.Shape, value.ToFloats());
        }

        foreach (var (name, expected) in outputs)
        {
            if (expected.Type is not (DT.Float or DT.Double) && !Feedable(expected))
            {
                return Outcome.Fail("dtype", $"output '{name}' is {expected.Type}.");
            }

            if (!model.Graph.Nodes.Any(n => n.Outputs.Contains(name)) && !model.Graph.Inputs.ContainsKey(name))
            {
                return Outcome.Fail("folded", $"output '{name}' is a constant computed at read time.");
            }
        }

        IReadOnlyDictionary<string, Tensor> results;
        try
        {
            results = new ReferenceExecutor(model.Graph, new ExecutionOptions { MaxDegreeOfParallelism = 2 }).Run(feeds, [.. outputs.Select(o => o.Name)]);
        }
        catch (NeuralException e)
        {
            return Outcome.Fail(e.Code, e.Message);
        }
        catch (NotSupportedException e)
        {
            return Outcome.Fail("kernel-refused", $"{e.Message} (a combination the kernel cannot compute must be refused at read time)");
        }

        foreach (var (name, expected) in outputs)
        {
            var actual = results[name];
            if (!actual.Shape.Equals(expected.Shape))
            {
                return Outcome.Fail("wrong-shape", $"output '{name}' is {actual.Shape} but ONNX's is {expected.Shape}.");
            }

            var want = expected.ToDoubles();
            var mismatches = new List<string>();
            for (var i = 0; i < want.Length; i++)
            {
                double got = actual.Data[i];
                var ok = double.IsNaN(want[i]) ? double.IsNaN(got)
                    : double.IsInfinity(want[i]) ? got == want[i]
                    : Math.Abs(got - want[i]) <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(want[i]));
                if (!ok)
                {
                    mismatches.Add(string.Create(CultureInfo.InvariantCulture, $"[{i}] {got:R} vs {want[i]:R}"));
                }
            }

            if (mismatches.Count > 0)
            {
                return Outcome.Fail("wrong-values", $"output '{name}' ({expected.Shape}) differs at {mismatches.Count} of {want.Length} elements: {string.Join(", ", mismatches.Take(8))}"
                    + (bound.Count > 0 ? $" (bound as constants: {string.Join(", ", bound)})" : string.Empty));
            }
        }

        return Outcome.Pass;
    }
}
