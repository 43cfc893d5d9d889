using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Analysis;

/// <summary>Infers the shape of every value of a graph, node by node in execution order.</summary>
public static class ShapeInference
{
    /// <summary>
    /// Whole-graph inferences run on this thread so far. Tests bound how many one pass run needs
    /// (an inference per pass and round made folding allocate quadratically in the graph size).
    /// </summary>
    [ThreadStatic]
    private static int t_wholeGraphRuns;

    internal static int WholeGraphRunsOnThisThread => t_wholeGraphRuns;

    public static Dictionary<string, Shape> Run(Graph graph) => Run(graph, graph.Inputs);

    /// <summary>
    /// Infers shapes for inputs other than those the graph declares (e.g. a smaller image for a
    /// fully convolutional model). Every graph input must be given.
    /// </summary>
    public static Dictionary<string, Shape> Run(Graph graph, IReadOnlyDictionary<string, Shape> inputShapes)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputShapes);
        t_wholeGraphRuns++;
        var shapes = new Dictionary<string, Shape>(graph.Inputs.Count + graph.Initializers.Count + graph.Nodes.Count, StringComparer.Ordinal);
        foreach (var name in graph.Inputs.Keys)
        {
            shapes[name] = inputShapes.TryGetValue(name, out var shape)
                ? shape
                : throw new ArgumentException($"No shape given for graph input '{name}'.", nameof(inputShapes));
        }

        foreach (var (name, initializer) in graph.Initializers)
        {
            shapes[name] = initializer.Shape;
        }

        foreach (var node in graph.Nodes)
        {
            var outputs = InferNode(node, shapes);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                shapes[node.Outputs[i]] = outputs[i];
            }
        }

        return shapes;
    }

    /// <summary>The output shapes of one node from the shapes of the values it reads.</summary>
    internal static Shape[] InferNode(Node node, IReadOnlyDictionary<string, Shape> shapes)
    {
        using var scope = Checked.At(node.Origin.Location);
        var inputs = new Shape?[node.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var name = node.Inputs[i];
            if (name.Length == 0)
            {
                continue;
            }

            inputs[i] = shapes.TryGetValue(name, out var shape)
                ? shape
                : throw DiagnosticCodes.ShapeMismatch.Exception(node.Origin.Location,
                    $"node '{node.Name}' reads '{name}', which no earlier node produces.");
        }

        return OpRegistry.Get(node).InferShapes(new OpContext(node, inputs));
    }
}
