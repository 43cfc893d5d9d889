using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// The graph the passes rewrite, with what they look up about it (who produces a value, who reads
/// it, every value's shape) kept current by the edits themselves. Built once per
/// <see cref="PassManager.Run"/>, so a fold costs work proportional to the nodes it touches, not to
/// the graph: rebuilding the lookups (or re-inferring every shape) per fold or per pass made
/// folding a model of n nodes allocate in proportion to n².
/// </summary>
/// <remarks>
/// Every rewrite of the passes keeps shapes: a folded node's readers read a value of the shape they
/// read before. The shape table is therefore inferred once and then only checked: each node whose
/// inputs an edit changed is re-inferred on its own (when the pass ends, or when the shapes are
/// next asked for), and only if its output shapes differ is the table dropped and inferred again
/// for the whole graph. Removed nodes leave <see cref="Graph.Nodes"/> when the pass ends (one
/// compaction instead of a list removal per fold).
/// </remarks>
public sealed class GraphEditor
{
    private readonly Dictionary<string, Node> _producers;

    /// <summary>Readers of each value, one entry per input slot that reads it (a node reading a value twice is listed twice); no particular order.</summary>
    private readonly Dictionary<string, List<Node>> _readers;

    /// <summary>Every node removed so far; those still in <see cref="Graph.Nodes"/> leave it when the pass ends.</summary>
    private readonly HashSet<Node> _removed = [];
    private readonly HashSet<Node> _rewired = [];
    private bool _nodesToCompact;
    private Dictionary<string, Shape>? _shapes;

    internal GraphEditor(Graph graph, WriterContract? writer = null)
    {
        Graph = graph;
        Writer = writer ?? WriterContract.Any;
        _producers = graph.BuildProducers();
        _readers = graph.BuildConsumers();
    }

    public Graph Graph { get; }

    /// <summary>What the writer of the result can express; passes ask <see cref="CannotExpress"/> before they edit.</summary>
    public WriterContract Writer { get; }

    /// <summary>Null when the writer can write <paramref name="node"/> after <paramref name="edit"/>; otherwise the reason a pass reports as "not applied".</summary>
    public string? CannotExpress(Node node, NodeEdit edit) =>
        Writer.CannotExpress(node, edit) is { } what ? $"the {Writer.WriterName} writer cannot express {what}" : null;

    /// <summary>
    /// As <see cref="CannotExpress"/> for removing all of <paramref name="removed"/> together: a node of
    /// a lowered layer (<see cref="LayerOrigin.Lowered"/>) whose layer's nodes all go is asked about as
    /// <see cref="NodeEdit.LayerRemoved"/>, any other as <see cref="NodeEdit.Removed"/>. Null when the
    /// writer can write the result; otherwise the first node that it cannot, with the reason.
    /// </summary>
    public (Node Node, string Reason)? CannotExpressRemoving(IReadOnlyCollection<Node> removed)
    {
        var going = removed.ToHashSet();
        foreach (var node in removed)
        {
            var wholeLayer = node.Origin.Lowered && Graph.Nodes.Where(n => n.Origin.Index == node.Origin.Index).All(going.Contains);
            if (CannotExpress(node, wholeLayer ? NodeEdit.LayerRemoved : NodeEdit.Removed) is { } reason)
            {
                return (node, reason);
            }
        }

        return null;
    }

    /// <summary>The shape of every value of the graph as it is now.</summary>
    public IReadOnlyDictionary<string, Shape> Shapes
    {
        get
        {
            CheckRewiredShapes();
            if (_shapes is null)
            {
                RemoveDeletedNodes();
                _shapes = ShapeInference.Run(Graph);
            }

            return _shapes;
        }
    }

    /// <summary>False once <see cref="Remove"/> was called for the node.</summary>
    public bool Contains(Node node) => !_removed.Contains(node);

    public Node? Producer(string value) => _producers.GetValueOrDefault(value);

    /// <summary>Nodes reading <paramref name="value"/>, once per input slot that reads it.</summary>
    public IReadOnlyList<Node> Readers(string value) => _readers.TryGetValue(value, out var list) ? list : [];

    /// <summary>Input slots reading <paramref name="value"/> plus the graph outputs naming it.</summary>
    public int ConsumerCount(string value)
    {
        var count = Readers(value).Count;
        foreach (var output in Graph.Outputs)
        {
            if (output == value)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Distinct nodes reading <paramref name="value"/> (a weight shared by several layers has several).</summary>
    public int ReadingNodeCount(string value)
    {
        var readers = Readers(value);
        var count = 0;
        for (var i = 0; i < readers.Count; i++)
        {
            var seenBefore = false;
            for (var j = 0; j < i && !seenBefore; j++)
            {
                seenBefore = ReferenceEquals(readers[j], readers[i]);
            }

            if (!seenBefore)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Makes input <paramref name="index"/> of <paramref name="node"/> read <paramref name="value"/> (appends when index is the input count).</summary>
    public void SetInput(Node node, int index, string value)
    {
        if (index == node.Inputs.Count)
        {
            node.Inputs.Add(value);
        }
        else
        {
            DropReader(node.Inputs[index], node);
            node.Inputs[index] = value;
        }

        AddReader(value, node);
        _rewired.Add(node);
    }

    /// <summary>
    /// <paramref name="name"/>, or <c>name.2</c>, <c>name.3</c>, … : the first that names no value of
    /// the graph (initializer, graph input or node output), so a new initializer never shadows a value
    /// the file already uses (a Relu output may well be called "conv/folded_weights").
    /// </summary>
    public string UniqueValueName(string name)
    {
        var candidate = name;
        for (var i = 2; Graph.Initializers.ContainsKey(candidate) || Graph.Inputs.ContainsKey(candidate) || _producers.ContainsKey(candidate); i++)
        {
            candidate = $"{name}.{i}";
        }

        return candidate;
    }

    /// <summary>Adds an initializer (a name not taken yet) to the graph.</summary>
    public void AddInitializer(Initializer initializer)
    {
        Graph.Initializers.Add(initializer.Name, initializer);
        _shapes?.Add(initializer.Name, initializer.Shape);
    }

    /// <summary>
    /// Adds <paramref name="node"/> (a node a pass made) to the graph just before <paramref name="anchor"/>,
    /// which keeps the execution order when it reads only values produced before the anchor. Its
    /// output is a new value, so the shape table is inferred again when next asked for.
    /// </summary>
    public void InsertBefore(Node anchor, Node node)
    {
        Graph.Nodes.Insert(Graph.Nodes.IndexOf(anchor), node);
        foreach (var output in node.Outputs)
        {
            _producers[output] = node;
        }

        foreach (var input in node.Inputs)
        {
            AddReader(input, node);
        }

        ShapesChanged();
    }

    /// <summary>Makes every reader of <paramref name="from"/> (and the graph outputs) read <paramref name="to"/>.</summary>
    public void ReplaceUses(string from, string to)
    {
        if (_readers.Remove(from, out var readers))
        {
            foreach (var node in readers)
            {
                // A node reading `from` in two slots is listed twice; the first visit rewires both.
                for (var i = 0; i < node.Inputs.Count; i++)
                {
                    if (node.Inputs[i] == from)
                    {
                        node.Inputs[i] = to;
                        AddReader(to, node);
                    }
                }

                _rewired.Add(node);
            }
        }

        for (var i = 0; i < Graph.Outputs.Count; i++)
        {
            if (Graph.Outputs[i] == from)
            {
                Graph.Outputs[i] = to;
            }
        }
    }

    /// <summary>Takes a node out of the graph. Its outputs must have no readers left.</summary>
    public void Remove(Node node)
    {
        if (!_removed.Add(node))
        {
            return;
        }

        _nodesToCompact = true;
        _rewired.Remove(node);

        foreach (var input in node.Inputs)
        {
            DropReader(input, node);
        }

        foreach (var output in node.Outputs)
        {
            if (_producers.TryGetValue(output, out var producer) && ReferenceEquals(producer, node))
            {
                _producers.Remove(output);
                _shapes?.Remove(output);
            }
        }
    }

    /// <summary>Drops initializers no node reads any more (in the dictionary's order, as writers enumerate it).</summary>
    public void RemoveUnusedInitializers()
    {
        List<string>? unused = null;
        foreach (var name in Graph.Initializers.Keys)
        {
            if (!_readers.ContainsKey(name))
            {
                (unused ??= []).Add(name);
            }
        }

        foreach (var name in unused ?? [])
        {
            Graph.Initializers.Remove(name);
            _shapes?.Remove(name);
        }
    }

    /// <summary>
    /// Says that an edit changed the shapes of values (channel pruning: a producer's output and every
    /// value its channels flow through): the table is dropped and inferred again, for the whole graph,
    /// when next asked for. Checking the rewired nodes alone would read the old shapes of their inputs.
    /// </summary>
    public void ShapesChanged()
    {
        _shapes = null;
        _rewired.Clear();
    }

    /// <summary>Ends a pass: removed nodes leave <see cref="Graph.Nodes"/> and rewired nodes' shapes are checked.</summary>
    internal void EndPass()
    {
        RemoveDeletedNodes();
        CheckRewiredShapes();
    }

    public static Node CloneNode(Node node) =>
        new(node.Name, node.OpType, node.Inputs, node.Outputs, node.Origin, node.Attributes.Clone()) { InPlace = node.InPlace, SourceName = node.SourceName };

    private void RemoveDeletedNodes()
    {
        if (_nodesToCompact)
        {
            Graph.Nodes.RemoveAll(_removed.Contains);
            _nodesToCompact = false;
        }
    }

    /// <summary>
    /// Re-infers each rewired node alone. The same output shapes mean nothing downstream changed;
    /// different ones drop the table (a pass that changes shapes on purpose says so with <see cref="ShapesChanged"/>), inferred again when next asked for.
    /// </summary>
    private void CheckRewiredShapes()
    {
        if (_shapes is null)
        {
            _rewired.Clear();
            return;
        }

        foreach (var node in _rewired)
        {
            var outputs = ShapeInference.InferNode(node, _shapes);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (!outputs[i].Equals(_shapes.GetValueOrDefault(node.Outputs[i])))
                {
                    _shapes = null;
                    _rewired.Clear();
                    return;
                }
            }
        }

        _rewired.Clear();
    }

    private void AddReader(string value, Node node)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (!_readers.TryGetValue(value, out var list))
        {
            _readers[value] = list = [];
        }

        list.Add(node);
    }

    private void DropReader(string value, Node node)
    {
        if (value.Length > 0 && _readers.TryGetValue(value, out var list))
        {
            list.Remove(node);
            if (list.Count == 0)
            {
                _readers.Remove(value);
            }
        }
    }
}
