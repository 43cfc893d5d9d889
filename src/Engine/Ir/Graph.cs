namespace NeuralBuild.Engine.Ir;

/// <summary>
/// A model as a graph of <see cref="Node"/>s over named values. <see cref="Nodes"/> is kept in
/// execution (topological) order; readers produce it that way and passes preserve it.
/// </summary>
public sealed class Graph
{
    public List<Node> Nodes { get; } = [];

    /// <summary>Graph inputs (the image) with their shapes.</summary>
    public Dictionary<string, Shape> Inputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Values the model delivers (detection heads, the classifier output).</summary>
    public List<string> Outputs { get; } = [];

    public Dictionary<string, Initializer> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// True once an edit chose the outputs (model surgery: a cut, a renamed output): writers then
    /// write <see cref="Outputs"/> as named, instead of keeping the file's own outputs.
    /// </summary>
    public bool OutputsChosen { get; set; }

    /// <summary>Nodes reading each value, in execution order.</summary>
    public Dictionary<string, List<Node>> BuildConsumers()
    {
        var map = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (input.Length == 0)
                {
                    continue;
                }

                if (!map.TryGetValue(input, out var list))
                {
                    map[input] = list = [];
                }

                list.Add(node);
            }
        }

        return map;
    }

    public Dictionary<string, Node> BuildProducers()
    {
        var map = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            foreach (var output in node.Outputs)
            {
                map[output] = node;
            }
        }

        return map;
    }
}
