using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// Darknet's hierarchical softmax (<c>tree=</c>, YOLO9000's class tree) in the reference executor and
/// in the ONNX export run by ONNX Runtime, both against the function written out here: one softmax per
/// group of consecutive sibling classes. The heads read the network input directly, so the expected
/// values are a function of the input alone. libdarknet's [softmax] is the oracle in
/// <see cref="OnnxLibDarknetTests"/>.
/// </summary>
[TestClass]
public sealed class OnnxHierarchicalSoftmaxTests
{
    // Roots a, b; a's children a1-a3; b's b1, b2; then a4, a child of a again but not next to its
    // siblings: four groups, as darknet's read_tree cuts them.
    private static readonly string[] s_tree = ["a -1", "b -1", "a1 0", "a2 0", "a3 0", "b1 1", "b2 1", "a4 0"];
    private static readonly int[] s_groups = [2, 3, 2, 1];
    private const int Classes = 8;

    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>Softmax of each group of <see cref="s_groups"/> over the values <paramref name="at"/>(class) reads, written to <paramref name="set"/>.</summary>
    private static void GroupedSoftmax(Func<int, double> at, Action<int, double> set, double temperature = 1)
    {
        var start = 0;
        foreach (var size in s_groups)
        {
            var members = Enumerable.Range(start, size).ToArray();
            var max = members.Max(k => at(k) / temperature);
            var sum = members.Sum(k => Math.Exp((at(k) / temperature) - max));
            foreach (var k in members)
            {
                set(k, Math.Exp((at(k) / temperature) - max) / sum);
            }

            start += size;
        }
    }

    private static Model Read(TempDirectory temp, string cfgText, DarknetDialect dialect = DarknetDialect.Pjreddie)
    {
        File.WriteAllLines(temp.Combine("classes.tree"), s_tree);
        return OnnxRuntimeComparison.Darknet(temp.Path, cfgText, dialect: dialect);
    }

    /// <summary>The oracle's values against the reference executor's, on the same seeded input as <see cref="OnnxRuntimeComparison.Compare"/>.</summary>
    private static void ExecutorMatches(Model model, OnnxRuntimeComparison.Oracle oracle)
    {
        var (name, shape) = model.Graph.Inputs.First();
        var random = new SplitMix64(0x5EED);
        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.Uniform(-4, 4);
        }

        var output = model.Graph.Outputs.Single();
        var actual = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = new(shape, data) })[output].Data;
        var expected = oracle((float[])data.Clone(), shape, [output])[0];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 2e-6, $"element {i}");
        }
    }

    [TestMethod]
    public void Softmax_layer_normalises_each_group_of_siblings_at_its_temperature()
    {
        using var temp = new TempDirectory();
        var model = Read(temp, $"[net]\nwidth=1\nheight=1\nchannels={Classes}\n\n[softmax]\ngroups=1\ntemperature=2\ntree=classes.tree\n");
        IReadOnlyList<float[]> Oracle(float[] input, Shape shape, IReadOnlyList<string> outputs)
        {
            var y = new float[input.Length];
            GroupedSoftmax(k => input[k], (k, v) => y[k] = (float)v, temperature: 2);
            return [y];
        }

        ExecutorMatches(model, Oracle);
        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, low: -4, high: 4, oracle: Oracle, oracleName: "the grouped softmax written in the test");
    }

    [TestMethod]
    public void Region_in_planes_normalises_the_groups_along_each_cells_class_planes()
    {
        using var temp = new TempDirectory();
        const int num = 2, size = 5 + Classes, cells = 9;
        var model = Read(temp, $"[net]\nwidth=3\nheight=3\nchannels={num * size}\n\n[region]\nanchors=1,1,2,2\nnum={num}\nclasses={Classes}\ncoords=4\nsoftmax=1\ntree=classes.tree\n");
        IReadOnlyList<float[]> Oracle(float[] input, Shape shape, IReadOnlyList<string> outputs)
        {
            // Darknet's GPU path (what YOLO9000 runs with): x, y and the objectness through the
            // logistic, w and h raw, the classes one softmax per group across the class planes.
            var y = new float[input.Length];
            int Index(int anchor, int entry, int cell) => (((anchor * size) + entry) * cells) + cell;
            for (var a = 0; a < num; a++)
            {
                for (var i = 0; i < cells; i++)
                {
                    foreach (var e in new[] { 0, 1, 4 })
                    {
                        y[Index(a, e, i)] = (float)Logistic(input[Index(a, e, i)]);
                    }

                    foreach (var e in new[] { 2, 3 })
                    {
                        y[Index(a, e, i)] = input[Index(a, e, i)];
                    }

                    GroupedSoftmax(k => input[Index(a, 5 + k, i)], (k, v) => y[Index(a, 5 + k, i)] = (float)v);
                }
            }

            return [y];
        }

        ExecutorMatches(model, Oracle);
        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, low: -4, high: 4, oracle: Oracle, oracleName: "the [region] head written in the test");
    }

    [TestMethod]
    public void Region_in_alexeyabs_boxes_layout_normalises_the_groups_of_each_record()
    {
        using var temp = new TempDirectory();
        const int num = 2, size = 5 + Classes, cells = 4, channels = num * size;
        var model = Read(temp, $"[net]\nwidth=2\nheight=2\nchannels={channels}\n\n[region]\nanchors=1,1,2,2\nnum={num}\nclasses={Classes}\ncoords=4\nsoftmax=1\ntree=classes.tree\n", DarknetDialect.AlexeyAB);
        IReadOnlyList<float[]> Oracle(float[] input, Shape shape, IReadOnlyList<string> outputs)
        {
            // AlexeyAB's CPU path: the map flattened to one record per cell and anchor (channel c of
            // cell i moves to i * channels + c), the objectness through the logistic, the classes one
            // softmax per group along the record, x, y, w, h raw.
            var y = new float[input.Length];
            for (var i = 0; i < cells; i++)
            {
                for (var a = 0; a < num; a++)
                {
                    var record = (i * channels) + (a * size);
                    float In(int entry) => input[(((a * size) + entry) * cells) + i];
                    for (var e = 0; e < 4; e++)
                    {
                        y[record + e] = In(e);
                    }

                    y[record + 4] = (float)Logistic(In(4));
                    GroupedSoftmax(k => In(5 + k), (k, v) => y[record + 5 + k] = (float)v);
                }
            }

            return [y];
        }

        ExecutorMatches(model, Oracle);
        OnnxRuntimeComparison.ExportAndCompare(model, temp.Path, low: -4, high: 4, oracle: Oracle, oracleName: "the [region] head written in the test");
    }

    [TestMethod]
    [DataRow("[softmax]\ngroups=1\ntree=data/9k.tree\n", 8)]
    [DataRow("[region]\nanchors=1,1\nnum=1\nclasses=3\ncoords=4\nsoftmax=1\ntree=data/9k.tree\n", 8)]
    public void A_head_whose_class_tree_is_missing_is_refused_with_NM0027_at_its_section(string head, int channels)
    {
        using var temp = new TempDirectory();
        var cfg = $"[net]\nwidth=2\nheight=2\nchannels={channels}\n\n{head}";
        var model = OnnxRuntimeComparison.Darknet(temp.Path, cfg);
        var result = OnnxExporter.Export(model, temp.Combine("refused.onnx"), new OnnxExportOptions());
        var refusal = result.Refusals.Single();
        Assert.AreEqual(DiagnosticCodes.ReferencedFileMissing, refusal.Diagnostic.Descriptor);
        Assert.AreEqual(6, refusal.Diagnostic.Location.Line);
        StringAssert.Contains(refusal.Diagnostic.Message, "9k.tree");
        Assert.IsFalse(File.Exists(temp.Combine("refused.onnx")));
    }
}
