using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// The pass manager's cost in whole-graph work. Re-inferring every shape per pass and round made
/// folding a model allocate in proportion to its size times the number of passes and rounds; the
/// shape table is now inferred once per run and kept current by the edits.
/// </summary>
[TestClass]
public sealed class PassManagerTests
{
    private static readonly LayerOrigin Origin = new(0, "test", "t", new SourceLocation("t.onnx", 1, 1));

    [TestMethod]
    [DataRow(1)]
    [DataRow(16)]
    public void A_three_round_run_infers_the_whole_graph_shapes_at_most_once_whatever_its_length(int blocks)
    {
        var graph = ChainOfConvMulBatchNorm(blocks);
        var before = ShapeInference.WholeGraphRunsOnThisThread;

        var report = PassManager.Run(graph);

        var inferences = ShapeInference.WholeGraphRunsOnThisThread - before;
        // Round 1 folds each Mul (its BN has no conv before it yet), round 2 each BN, round 3 finds
        // nothing: 3 rounds of 4 shape-reading passes, which used to infer 12 times.
        Assert.HasCount(2 * blocks, report.Folds);
        Assert.IsLessThanOrEqualTo(1, inferences);
        CollectionAssert.AreEqual(Enumerable.Range(0, blocks).SelectMany(_ => new[] { "Conv", "Activation" }).ToArray(), graph.Nodes.Select(n => n.OpType).ToArray());
        foreach (var conv in graph.Nodes.Where(n => n.OpType == "Conv"))
        {
            // Per block: w = 2, Mul by 3 -> W' = 6, b' = 0; BN gamma 4, beta 1, mean 2, var 3, eps 1:
            // a = 4 / sqrt(3 + 1) = 2 -> W'' = 12, b'' = a * (0 - 2) + 1 = -3.
            CollectionAssert.AreEqual(new[] { 12f }, graph.Initializers[conv.Inputs[1]].Data!.ToArray());
            CollectionAssert.AreEqual(new[] { -3f }, graph.Initializers[conv.Inputs[2]].Data!.ToArray());
        }

        Assert.AreEqual(graph.Nodes[^1].Outputs[0], graph.Outputs.Single());
    }

    [TestMethod]
    public void The_shapes_after_a_run_are_those_a_fresh_inference_gives()
    {
        var graph = ChainOfConvMulBatchNorm(3);
        var editor = new GraphEditor(graph);
        _ = editor.Shapes;

        foreach (var pass in PassManager.Default)
        {
            pass.Run(editor, new PassReport());
            editor.EndPass();
        }

        var kept = editor.Shapes;
        var fresh = ShapeInference.Run(graph);
        CollectionAssert.AreEquivalent(fresh.Keys.ToArray(), kept.Keys.ToArray(), "values of removed nodes and unused initializers are gone");
        foreach (var (name, shape) in fresh)
        {
            Assert.AreEqual(shape, kept[name], name);
        }
    }

    [TestMethod]
    public void The_lookups_after_edits_are_those_of_the_edited_graph()
    {
        var graph = ChainOfConvMulBatchNorm(2);
        var editor = new GraphEditor(graph);
        var mul = graph.Nodes.First(n => n.OpType == "Arithmetic");
        var conv = graph.Nodes[0];

        editor.ReplaceUses(mul.Outputs[0], conv.Outputs[0]);
        editor.Remove(mul);
        editor.EndPass();

        var consumers = graph.BuildConsumers();
        var producers = graph.BuildProducers();
        foreach (var value in graph.Nodes.SelectMany(n => n.Inputs.Concat(n.Outputs)).Distinct())
        {
            CollectionAssert.AreEquivalent(consumers.GetValueOrDefault(value) ?? [], editor.Readers(value).ToList(), value);
            Assert.AreSame(producers.GetValueOrDefault(value), editor.Producer(value), value);
        }

        Assert.IsNull(editor.Producer(mul.Outputs[0]));
        Assert.IsFalse(editor.Contains(mul));
        Assert.DoesNotContain(mul, graph.Nodes);
    }

    [TestMethod]
    public void A_rewrite_that_changes_a_shape_makes_the_table_be_inferred_again()
    {
        // x (1x1x2x2) -> Conv(w: 2 filters) -> relu. Swapping in 4 filters changes what relu sees.
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 2, 2);
        graph.Initializers["w"] = new Initializer("w", new Shape(2, 1, 1, 1), new ArrayData([1f, 2f]));
        var conv = new Node("conv", "Conv", ["x", "w"], ["c"], Origin, new Attributes().Set("kernel_shape", [1L, 1L]));
        graph.Nodes.Add(conv);
        graph.Nodes.Add(new Node("relu", "Activation", ["c"], ["r"], Origin, new Attributes().Set("function", "relu")));
        graph.Outputs.Add("r");
        var editor = new GraphEditor(graph);
        var before = ShapeInference.WholeGraphRunsOnThisThread;
        Assert.AreEqual(Shape.Nchw(1, 2, 2, 2), editor.Shapes["r"]);

        editor.AddInitializer(new Initializer("w_same", new Shape(2, 1, 1, 1), new ArrayData([3f, 4f])));
        editor.SetInput(conv, 1, "w_same");
        editor.EndPass();
        Assert.AreEqual(Shape.Nchw(1, 2, 2, 2), editor.Shapes["r"]);
        Assert.AreEqual(1, ShapeInference.WholeGraphRunsOnThisThread - before, "weights of the same shape change no shape: no new inference");

        editor.AddInitializer(new Initializer("w4", new Shape(4, 1, 1, 1), new ArrayData([1f, 2f, 3f, 4f])));
        editor.SetInput(conv, 1, "w4");
        editor.EndPass();
        Assert.AreEqual(Shape.Nchw(1, 4, 2, 2), editor.Shapes["r"]);
        Assert.AreEqual(2, ShapeInference.WholeGraphRunsOnThisThread - before);
    }

    /// <summary>
    /// <paramref name="blocks"/> times Conv(1x1, w = 2) -> Mul(3) -> BatchNormalization(gamma 4,
    /// beta 1, mean 2, var 3, epsilon 1) -> relu on a 1-channel 2x2 image (the relu keeps each BN
    /// from folding forward into the next block's unpadded conv).
    /// </summary>
    internal static Graph ChainOfConvMulBatchNorm(int blocks)
    {
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 2, 2);
        var value = "x";
        for (var i = 0; i < blocks; i++)
        {
            void Constant(string name, float v) => graph.Initializers[$"{name}{i}"] = new Initializer($"{name}{i}", new Shape(1), new ArrayData([v]));
            graph.Initializers[$"w{i}"] = new Initializer($"w{i}", new Shape(1, 1, 1, 1), new ArrayData([2f]));
            Constant("k", 3);
            Constant("gamma", 4);
            Constant("beta", 1);
            Constant("mean", 2);
            Constant("var", 3);
            graph.Nodes.Add(new Node($"conv{i}", "Conv", [value, $"w{i}"], [$"c{i}"], Origin, new Attributes().Set("kernel_shape", [1L, 1L])));
            graph.Nodes.Add(new Node($"mul{i}", "Arithmetic", [$"c{i}", $"k{i}"], [$"m{i}"], Origin, new Attributes().Set("operation", "mul")));
            graph.Nodes.Add(new Node($"bn{i}", "BatchNormalization", [$"m{i}", $"gamma{i}", $"beta{i}", $"mean{i}", $"var{i}"], [$"y{i}"], Origin,
                new Attributes().Set("epsilon", 1.0)));
            graph.Nodes.Add(new Node($"relu{i}", "Activation", [$"y{i}"], [$"r{i}"], Origin, new Attributes().Set("function", "relu")));
            value = $"r{i}";
        }

        graph.Outputs.Add(value);
        return graph;
    }
}
