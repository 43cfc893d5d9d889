using System.Globalization;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// The channels that must be removed together with one constant channel: the channel as it flows
/// forward and backward through pass-through nodes (the other input of an add, the input of a
/// depthwise conv, the part of a concat), with the producers that make it and the consumers that
/// read it. <see cref="Blocker"/> says why they cannot go, if they cannot.
/// </summary>
internal sealed class ChannelGroup
{
    private readonly List<(Node Node, long Row)> _rows = [];
    private readonly List<(Node Node, long Channel, float Constant, long Span)> _inputs = [];

    private IReadOnlySet<Node> _perChannel = new HashSet<Node>();
    private Func<string, long, string>? _apart;

    public List<(string Value, long Channel)> Slots { get; } = [];

    /// <summary>Null when the group can be removed.</summary>
    public string? Blocker { get; private set; }

    /// <summary>The node a refusal is reported at: the first producer of the channel.</summary>
    public Node? Reporter { get; private set; }

    /// <summary>
    /// The group of channel <paramref name="channel"/> of <paramref name="value"/>. <paramref name="perChannel"/>:
    /// per-channel parameter nodes (a pruned layer's own BatchNorm or scale) the channel passes
    /// through, its entries going with it; <paramref name="apart"/>: the reason given when the group
    /// reaches a channel that is not in <paramref name="constants"/> (default: "not constant").
    /// </summary>
    public static ChannelGroup Trace(GraphEditor graph, Dictionary<string, float[]> constants, string value, long channel,
        IReadOnlySet<Node>? perChannel = null, Func<string, long, string>? apart = null)
    {
        var group = new ChannelGroup { _perChannel = perChannel ?? new HashSet<Node>(), _apart = apart };
        var queued = new HashSet<(string, long)> { (value, channel) };
        var queue = new Queue<(string Value, long Channel)>();
        queue.Enqueue((value, channel));
        var touched = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        void Enqueue(string v, long c)
        {
            if (queued.Add((v, c)))
            {
                queue.Enqueue((v, c));
            }
        }

        while (queue.Count > 0 && group.Blocker is null)
        {
            var (v, c) = queue.Dequeue();
            group.Slots.Add((v, c));
            group.Blocker = group.Visit(graph, constants, v, c, touched, Enqueue);
        }

        // Slots still queued belong to the group as well (so they are not traced again).
        group.Slots.AddRange(queue);
        if (group.Blocker is null)
        {
            foreach (var node in touched)
            {
                if (graph.CannotExpress(node, NodeEdit.ChannelsRemoved) is { } unwritable)
                {
                    group.Blocker = unwritable;
                    break;
                }
            }
        }

        return group;
    }

    private string? Visit(GraphEditor graph, Dictionary<string, float[]> constants, string v, long c, HashSet<Node> touched, Action<string, long> enqueue)
    {
        if (!constants.TryGetValue(v, out var values) || float.IsNaN(values[c]))
        {
            return _apart?.Invoke(v, c) ?? $"it must go together with channel {c} of '{v}', which is not constant";
        }

        if (graph.Graph.Outputs.Contains(v))
        {
            return $"it reaches the model output '{v}', whose shape the model promises";
        }

        var constant = values[c];
        var producer = graph.Producer(v);
        if (producer is null)
        {
            return $"'{v}' is a graph input";
        }

        Reporter ??= producer;
        touched.Add(producer);
        if (ChannelFlow.IsProducer(graph, producer))
        {
            _rows.Add((producer, c));
        }
        else if (ChannelFlow.IsDepthwise(graph, producer))
        {
            _rows.Add((producer, c));
            enqueue(producer.Inputs[0], c);
        }
        else if (_perChannel.Contains(producer))
        {
            _rows.Add((producer, c));
            enqueue(producer.Inputs[0], c);
        }
        else if (ChannelFlow.PassThroughOffset(graph, producer, 0) is not null)
        {
            var shapes = graph.Shapes;
            var channelInputs = producer.OpType is "Concat" or "Arithmetic" ? producer.Inputs.Count : 1;
            for (var i = 0; i < channelInputs; i++)
            {
                var offset = ChannelFlow.PassThroughOffset(graph, producer, i)!.Value;
                if (c >= offset && c < offset + shapes[producer.Inputs[i]][1])
                {
                    enqueue(producer.Inputs[i], c - offset);
                }
            }
        }
        else
        {
            return $"'{v}' comes from {Describe(producer)}, which the pass cannot follow";
        }

        foreach (var reader in graph.Readers(v).Distinct())
        {
            touched.Add(reader);
            for (var slot = 0; slot < reader.Inputs.Count; slot++)
            {
                if (reader.Inputs[slot] != v)
                {
                    continue;
                }

                var refused = Read(graph, reader, slot, v, c, constant, touched, enqueue);
                if (refused is not null)
                {
                    return refused;
                }
            }
        }

        return null;
    }

    /// <summary>Follows channel <paramref name="c"/> of <paramref name="v"/> into input <paramref name="slot"/> of <paramref name="reader"/>.</summary>
    private string? Read(GraphEditor graph, Node reader, int slot, string v, long c, float constant, HashSet<Node> touched, Action<string, long> enqueue)
    {
        var shape = graph.Shapes[v];
        if (slot == 0 && _perChannel.Contains(reader))
        {
            _rows.Add((reader, c));
            enqueue(reader.Outputs[0], c);
            return null;
        }

        if (slot == 0 && ChannelFlow.IsProducer(graph, reader))
        {
            return Consume(graph, reader, c, constant, shape.ElementsPerItem / shape[1]);
        }

        if (slot == 0 && reader.OpType == "Flatten" && FlattensPerItem(reader, shape))
        {
            var output = reader.Outputs[0];
            if (graph.Graph.Outputs.Contains(output))
            {
                return $"its flattened form '{output}' is a model output";
            }

            foreach (var fc in graph.Readers(output).Distinct())
            {
                touched.Add(fc);
                if (fc.Inputs.IndexOf(output) != 0 || fc.OpType != "FullyConnected" || !ChannelFlow.IsProducer(graph, fc))
                {
                    return $"'{output}' (flattened) is read by {Describe(fc)}, which the pass cannot follow";
                }

                if (Consume(graph, fc, c, constant, shape.ElementsPerItem / shape[1]) is { } refused)
                {
                    return refused;
                }
            }

            return null;
        }

        if (ChannelFlow.PassThroughOffset(graph, reader, slot) is { } offset)
        {
            if (reader.OpType == "Conv")
            {
                _rows.Add((reader, c)); // depthwise: the channel's filter goes with it
            }

            enqueue(reader.Outputs[0], c + offset);
            return null;
        }

        return $"'{v}' is read by {Describe(reader)}, which the pass cannot follow";
    }

    /// <summary>A conv or fully connected layer reads the channel: its input slice goes, and a nonzero constant goes into its bias where that is exact.</summary>
    private string? Consume(GraphEditor graph, Node consumer, long c, float constant, long span)
    {
        if (constant != 0)
        {
            if (consumer.OpType == "Conv" && consumer.AttributesAs<ConvAttributes>().Window.HasPadding)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"{Describe(consumer)} pads its input with zeros, so the channel (constant {constant:G6}) is not constant at its border and cannot fold into its bias");
            }

            if (consumer.Inputs.Count < 3 || consumer.Inputs[2].Length == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{Describe(consumer)} has no bias to take the channel's constant {constant:G6}");
            }
        }

        _inputs.Add((consumer, c, constant, span));
        return null;
    }

    /// <summary>A Flatten of everything after the batch axis: channel c becomes the inputs c*H*W … (c+1)*H*W - 1 of the layer after it.</summary>
    private static bool FlattensPerItem(Node flatten, Shape input)
    {
        var attributes = flatten.AttributesAs<FlattenAttributes>();
        return attributes.Axis == 1 && (attributes.EndAxis == -1 || attributes.EndAxis == input.Rank - 1);
    }

    private static string Describe(Node node) =>
        string.Create(CultureInfo.InvariantCulture, $"{node.OpType} '{node.Name}' (layer {node.Origin.Index} [{node.Origin.Kind}])");

    /// <summary>Adds this group's removals to the plan.</summary>
    public void AddTo(Dictionary<Node, NodeCut> cuts)
    {
        NodeCut Of(Node node)
        {
            if (!cuts.TryGetValue(node, out var cut))
            {
                cuts[node] = cut = new NodeCut();
            }

            return cut;
        }

        foreach (var (node, row) in _rows)
        {
            Of(node).Rows.Add(row);
        }

        foreach (var (node, channel, constant, span) in _inputs)
        {
            Of(node).Inputs[channel] = (constant, span);
        }
    }
}
