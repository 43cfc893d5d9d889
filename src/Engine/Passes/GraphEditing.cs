using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>Small graph surgery shared by passes.</summary>
internal static class GraphEditing
{
    /// <summary>Makes every reader of <paramref name="from"/> (and the graph outputs) read <paramref name="to"/>.</summary>
    public static void ReplaceUses(Graph graph, string from, string to)
    {
        foreach (var node in graph.Nodes)
        {
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (node.Inputs[i] == from)
                {
                    node.Inputs[i] = to;
                }
            }
        }

        for (var i = 0; i < graph.Outputs.Count; i++)
        {
            if (graph.Outputs[i] == from)
            {
                graph.Outputs[i] = to;
            }
        }
    }

    /// <summary>Drops initializers no node reads any more.</summary>
    public static void RemoveUnusedInitializers(Graph graph)
    {
        var used = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (var name in graph.Initializers.Keys.Where(k => !used.Contains(k)).ToList())
        {
            graph.Initializers.Remove(name);
        }
    }

    public static int ConsumerCount(Graph graph, string value) =>
        graph.Nodes.Sum(n => n.Inputs.Count(i => i == value)) + graph.Outputs.Count(o => o == value);

    public static Node CloneNode(Node node)
    {
        var clone = new Node(node.Name, node.OpType, node.Inputs, node.Outputs, node.Origin, node.Attributes.Clone()) { InPlace = node.InPlace };
        return clone;
    }
}
