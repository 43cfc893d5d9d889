using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Surgery;

/// <summary>A parameter of a source layer and its role there: "Conv[1]" is the weights input of its Conv.</summary>
internal sealed record LayerParameter(string Role, Initializer Initializer);

/// <summary>
/// A layer as its definition states it (the nodes of one <see cref="LayerOrigin"/>), with the float
/// parameters its nodes read, in execution order. A role is the node's operation and the input slot,
/// with "#2", "#3" for a second node of the same operation in the layer; a parameter read twice
/// (shared) counts once. Integer constants (shapes, indices) and values the definition states
/// (<see cref="Initializer.Stated"/>) are structure, not parameters.
/// </summary>
internal sealed record SourceLayer(string Name, string Kind, SourceLocation Location, IReadOnlyList<LayerParameter> Parameters)
{
    public static List<SourceLayer> Collect(Graph graph)
    {
        var order = new List<string>();
        var byName = new Dictionary<string, (LayerOrigin Origin, List<LayerParameter> Parameters, Dictionary<string, int> Seen, HashSet<string> Names)>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            // An unnamed source layer (an ONNX node without a name) is known by its node.
            var name = node.Origin.Name.Length > 0 ? node.Origin.Name : node.Name;
            if (!byName.TryGetValue(name, out var layer))
            {
                layer = (node.Origin, [], new Dictionary<string, int>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
                byName[name] = layer;
                order.Add(name);
            }

            var occurrence = layer.Seen[node.OpType] = layer.Seen.GetValueOrDefault(node.OpType) + 1;
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (graph.Initializers.TryGetValue(node.Inputs[i], out var initializer) && initializer.DataType == DataType.Float32 && !initializer.Stated && layer.Names.Add(initializer.Name))
                {
                    var role = occurrence == 1 ? $"{node.OpType}[{i}]" : $"{node.OpType}#{occurrence}[{i}]";
                    layer.Parameters.Add(new LayerParameter(role, initializer));
                }
            }
        }

        return [.. order.Select(n => (Name: n, Layer: byName[n]))
            .Where(l => l.Layer.Parameters.Count > 0)
            .Select(l => new SourceLayer(l.Name, l.Layer.Origin.Kind, l.Layer.Origin.Location, l.Layer.Parameters))];
    }
}
