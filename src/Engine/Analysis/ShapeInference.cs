using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Analysis;

/// <summary>Infers the shape of every value of a graph, node by node in execution order.</summary>
public static class ShapeInference
{
    public static Dictionary<string, Shape> Run(Graph graph) => Run(graph, graph.Inputs);

    /// <summary>
    /// Infers shapes for inputs other than those the graph declares (e.g. a smaller image for a
    /// fully convolutional model). Every graph input must be given.
    /// </summary>
    public static Dictionary<string, Shape> Run(Graph graph, IReadOnlyDictionary<string, Shape> inputShapes)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputShapes);
        var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
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

            var outputs = OpRegistry.Get(node).InferShapes(new OpContext(node, inputs));
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                shapes[node.Outputs[i]] = outputs[i];
            }
        }

        return shapes;
    }
}
