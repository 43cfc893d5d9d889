using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Proves a rewrite: runs the original and the optimised computation on the same seeded random
/// input with the reference executor and compares every output. <c>Layers</c> checks each fold on a
/// small patch (cost independent of model size); <c>Model</c> runs both whole models.
/// </summary>
public static class Verifier
{
    private const ulong Seed = 0x5EED;

    public static VerificationReport VerifyFolds(PassReport passes, double atol, double rtol)
    {
        var comparisons = new List<OutputComparison>();
        foreach (var fold in passes.Folds)
        {
            var patch = PatchShape(fold);
            var input = RandomTensor(patch, Seed + (ulong)fold.Origin.Index);
            var original = RunSubgraph(fold.OriginalNodes, fold.OriginalInitializers, fold.Input, input);
            var replaced = RunSubgraph(fold.ReplacementNodes, fold.ReplacementInitializers, fold.Input, input);
            var subject = $"layer {fold.Origin.Index} [{fold.Origin.Kind}] {fold.Pass} ({fold.Origin.Location})";
            comparisons.Add(VerificationReport.Compare(subject, $"patch {patch}", original.Shape, replaced.Data, original.Data, atol, rtol));
        }

        return new VerificationReport(VerifyMode.Layers, atol, rtol, comparisons);
    }

    /// <summary>
    /// Runs both whole models on one seeded input and compares the model outputs and the output
    /// of every layer both graphs still have, so a failure points at the first layer that drifts.
    /// </summary>
    public static VerificationReport VerifyModels(Model original, Model optimised, double atol, double rtol, Shape? inputShape = null)
    {
        var (name, declared) = original.Graph.Inputs.First();
        var input = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [name] = RandomTensor(inputShape ?? declared, Seed) };
        var optimisedValues = new HashSet<string>(optimised.Graph.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);

        // A value read by a node the passes removed now carries what that node computed (a Caffe
        // conv's top after its BatchNorm and Scale folded in place): it no longer means the same
        // thing in both graphs and is not compared.
        var optimisedNodes = new HashSet<string>(optimised.Graph.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        var absorbed = new HashSet<string>(original.Graph.Nodes.Where(n => !optimisedNodes.Contains(n.Name)).SelectMany(n => n.Inputs), StringComparer.Ordinal);
        var layerOutputs = original.Graph.Nodes
            .GroupBy(n => n.Origin.Index)
            .Select(g => (Layer: g.Last().Origin, Value: g.Last().Outputs[0]))
            .Where(l => optimisedValues.Contains(l.Value) && !absorbed.Contains(l.Value))
            .ToList();
        var wanted = layerOutputs.Select(l => l.Value).Union(original.Graph.Outputs, StringComparer.Ordinal).ToList();

        var expected = new ReferenceExecutor(original.Graph).Run(input, wanted);
        var actual = new ReferenceExecutor(optimised.Graph).Run(input, wanted.Where(optimisedValues.Contains).ToList());
        var comparisons = original.Graph.Outputs
            .Where(actual.ContainsKey)
            .Select(o => VerificationReport.Compare("model output", o, expected[o].Shape, actual[o].Data, expected[o].Data, atol, rtol))
            .Concat(layerOutputs.Select(l => VerificationReport.Compare(
                $"layer {l.Layer.Index} [{l.Layer.Kind}] ({l.Layer.Location})", l.Value, expected[l.Value].Shape, actual[l.Value].Data, expected[l.Value].Data, atol, rtol)))
            .ToList();
        return new VerificationReport(VerifyMode.Model, atol, rtol, comparisons);
    }

    /// <summary>
    /// One image of a small patch: every output channel (a fold is per channel), padded borders
    /// and interior positions are all exercised, at a cost independent of the model's resolution.
    /// FC layers need their full input.
    /// </summary>
    private static Shape PatchShape(FoldRecord fold)
    {
        var s = fold.InputShape;
        if (fold.OriginalNodes.Any(n => n.OpType == "FullyConnected") || s.Rank != 4)
        {
            return s.WithDim(0, 1);
        }

        var conv = fold.OriginalNodes.First(n => n.OpType is "Conv" or "ConvTranspose");
        var k = conv.Attributes.Ints("kernel_shape");
        var d = conv.Attributes.Ints("dilations", [1, 1]);
        var st = conv.Attributes.Ints("strides", [1, 1]);
        long Side(int axis) => Math.Max(6, (d[axis] * (k[axis] - 1)) + 1 + (2 * st[axis]));
        return Shape.Nchw(1, s.C, Side(0), Side(1));
    }

    private static Tensor RunSubgraph(IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, Initializer> initializers, string input, Tensor value)
    {
        var graph = new Graph();
        graph.Inputs[input] = value.Shape;
        foreach (var node in nodes)
        {
            graph.Nodes.Add(node);
        }

        foreach (var (name, init) in initializers)
        {
            graph.Initializers[name] = init;
        }

        var output = nodes[^1].Outputs[0];
        graph.Outputs.Add(output);
        return new ReferenceExecutor(graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [input] = value })[output];
    }

    /// <summary>Deterministic inputs in [-1, 1) (SplitMix64: no dependence on System.Random's algorithm).</summary>
    private static Tensor RandomTensor(Shape shape, ulong seed)
    {
        var random = new SplitMix64(seed);
        var data = new float[checked((int)shape.ElementCount)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.Uniform(-1, 1);
        }

        return new Tensor(shape, data);
    }
}
