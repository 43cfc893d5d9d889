namespace NeuralBuild.Engine.Ir;

/// <summary>
/// One operation of the graph. Inputs and outputs name values; an input may name an
/// <see cref="Initializer"/> (weights). An empty input name marks an omitted optional input.
/// </summary>
public sealed class Node
{
    public Node(string name, string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, LayerOrigin origin, Attributes? attributes = null)
    {
        Name = name;
        SourceName = name;
        OpType = opType;
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        Origin = origin;
        Attributes = attributes ?? new Attributes();
    }

    public string Name { get; set; }

    /// <summary>The name the node was read or made with: a rename changes <see cref="Name"/> only, so writers still find the file's layer.</summary>
    public string SourceName { get; init; }

    /// <summary>The kind of operation, a key of <see cref="Ops.OpRegistry"/>.</summary>
    public string OpType { get; set; }

    public List<string> Inputs { get; }

    public List<string> Outputs { get; }

    public Attributes Attributes { get; }

    public LayerOrigin Origin { get; set; }

    /// <summary>
    /// True when the output reuses the buffer of input 0 (Darknet's BN and activation run on the
    /// conv output; Caffe layers with top == bottom). Peak memory and activation bytes honour it.
    /// </summary>
    public bool InPlace { get; set; }

    public override string ToString() => $"{Name} ({OpType})";
}
