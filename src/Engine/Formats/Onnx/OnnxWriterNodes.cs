using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Node rewriting of <see cref="OnnxWriter"/>: which source nodes the IR kept, how model outputs keep
/// their names, and the inputs and outputs each written node gets.
/// </summary>
internal sealed partial class OnnxWriter
{
    /// <summary>
    /// Source node index → the IR node that stands for it (for a node the reader lowered into parts, one
    /// node standing for all of them: the first part's operator and inputs, every part's output in the
    /// source's order); refuses nodes a pass made.
    /// </summary>
    private Dictionary<int, Node> KeptNodes()
    {
        var kept = new Dictionary<int, Node>();
        foreach (var node in _model.Graph.Nodes.Where(n => !n.Origin.Lowered).Concat(LoweredWholes()))
        {
            var index = node.Origin.Index;
            var sourceOutputs = index >= 0 && index < _source.Node.Count ? _source.Node[index].Output.Where(o => o.Length > 0).ToList() : [];
            if (index < 0 || index >= _source.Node.Count || !_document.NodeInputs.ContainsKey(index) || !kept.TryAdd(index, node)
                || node.Outputs.Count != sourceOutputs.Count)
            {
                throw new NotSupportedException(
                    $"IR node '{node.Name}' ({node.OpType}) does not stand for one node of '{Path.GetFileName(_document.Path)}' with its outputs; the ONNX writer writes the file's own nodes, edited, not nodes a pass made.");
            }
        }

        // A value an edit renamed is written under its new name wherever the file names it.
        // (Parts of a lowered node keep their source outputs' names: the contract refuses renaming one.)
        foreach (var (index, node) in kept)
        {
            foreach (var (was, now) in _source.Node[index].Output.Where(o => o.Length > 0).Zip(node.Outputs))
            {
                if (was != now)
                {
                    _renamed[was] = now;
                    _taken.Add(now);
                }
            }
        }

        // What replaced each value the passes rewired (for Shape nodes folded at read time that read it).
        foreach (var (index, node) in kept)
        {
            var before = _document.NodeInputs[index];
            for (var i = 0; i < before.Count && i < node.Inputs.Count; i++)
            {
                if (before[i] != node.Inputs[i] && before[i].Length > 0 && !_document.InitializerData.ContainsKey(before[i]))
                {
                    _replaced.TryAdd(before[i], node.Inputs[i]);
                }
            }
        }

        return kept;
    }

    /// <summary>The nodes the reader lowered into parts, each as one node of all its parts' outputs in the source node's order.</summary>
    private IEnumerable<Node> LoweredWholes() =>
        _model.Graph.Nodes.Where(n => n.Origin.Lowered).GroupBy(n => n.Origin.Index).Select(parts =>
        {
            var index = parts.Key;
            var order = index >= 0 && index < _source.Node.Count ? _source.Node[index].Output.ToList() : [];
            var first = parts.First();
            return new Node(first.Origin.Name, first.OpType, first.Inputs, [.. parts.SelectMany(p => p.Outputs).OrderBy(o => order.IndexOf(o))], first.Origin);
        });

    /// <summary>
    /// Keeps every model output's name: where the IR now delivers another value (the removed node's
    /// input, the conv a BatchNorm folded into), that value's producer is renamed to the output's
    /// name; where that is impossible (a graph input, a constant, a value that is itself another
    /// output or already renamed), an Identity is planned. Returns the planned Identities.
    /// </summary>
    private List<(string Value, string Name)> PlanModelOutputs(Dictionary<int, Node> kept)
    {
        if (_model.Graph.Outputs.Count != _source.Output.Count)
        {
            throw new NotSupportedException($"the passes changed the number of model outputs from {_source.Output.Count} to {_model.Graph.Outputs.Count}; the ONNX writer keeps the model's outputs.");
        }

        var produced = new HashSet<string>(kept.Values.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var outputNames = new HashSet<string>(_source.Output.Select(o => o.Name), StringComparer.Ordinal);
        var identities = new List<(string, string)>();
        for (var i = 0; i < _source.Output.Count; i++)
        {
            var name = _source.Output[i].Name;
            var value = _model.Graph.Outputs[i];
            if (value == name)
            {
                continue;
            }

            _replaced.TryAdd(name, value);
            if (produced.Contains(value) && !outputNames.Contains(value) && !_renamed.ContainsKey(value))
            {
                _renamed[value] = name;
            }
            else
            {
                identities.Add((value, name));
            }
        }

        return identities;
    }

    /// <summary>A node folded at read time: kept as it was, except that it follows renames and rewired values.</summary>
    private NodeProto Folded(NodeProto node)
    {
        var inputs = node.Input.Select(Follow).ToList();
        var outputs = node.Output.Select(Renamed).ToList();
        return Replace(node, inputs, outputs);
    }

    /// <summary>The ONNX name of a computed value that a folded node reads, after renames and rewiring.</summary>
    private string Follow(string value)
    {
        if (value.Length == 0 || _document.InitializerIndex.ContainsKey(value))
        {
            return value;
        }

        _produced ??= new HashSet<string>(_model.Graph.Nodes.SelectMany(n => n.Outputs).Concat(_model.Graph.Inputs.Keys), StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var current = value;
        while (!_produced.Contains(current) && _replaced.TryGetValue(current, out var next) && seen.Add(current))
        {
            current = next;
        }

        return Renamed(current);
    }

    private string Renamed(string value) => _renamed.GetValueOrDefault(value, value);

    /// <summary>A node the IR kept, with the inputs the passes gave it.</summary>
    private NodeProto Kept(int index, Node ir)
    {
        var source = _source.Node[index];
        var before = _document.NodeInputs[index];
        var inputs = source.Input.Select(Renamed).ToList();
        for (var i = 0; i < Math.Max(before.Count, ir.Inputs.Count); i++)
        {
            var now = i < ir.Inputs.Count ? ir.Inputs[i] : string.Empty;
            var was = i < before.Count ? before[i] : null;
            if (now == was && !Changed(now))
            {
                continue; // the file's own spelling (an alias through Identity stays an alias)
            }

            var name = Resolve(now, TypeOf(was ?? (before.Count > 1 ? before[1] : string.Empty)));
            while (inputs.Count <= i)
            {
                inputs.Add(string.Empty);
            }

            inputs[i] = name;
        }

        while (inputs.Count > 0 && inputs[^1].Length == 0)
        {
            inputs.RemoveAt(inputs.Count - 1);
        }

        var written = WithGroup(Replace(source, inputs, source.Output.Select(Renamed).ToList()), source, ir);
        if (ir.Name == ir.SourceName || written.Name == ir.Name)
        {
            return written;
        }

        // Renamed by an edit.
        var renamed = ReferenceEquals(written, source) ? source.Clone() : written;
        renamed.Name = ir.Name;
        return renamed;
    }

    /// <summary>A conv whose group count a pass changed (a pruned depthwise conv) states the new one.</summary>
    private static NodeProto WithGroup(NodeProto written, NodeProto source, Node ir)
    {
        if (ir.OpType != "Conv")
        {
            return written;
        }

        var group = ir.AttributesAs<ConvAttributes>().Group;
        var stated = source.Attribute.FirstOrDefault(a => a.Name == "group");
        if ((stated?.I ?? 1) == group)
        {
            return written;
        }

        var copy = ReferenceEquals(written, source) ? source.Clone() : written;
        var attribute = copy.Attribute.FirstOrDefault(a => a.Name == "group");
        if (attribute is null)
        {
            copy.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = group });
        }
        else
        {
            attribute.I = group;
        }

        return copy;
    }

    private static NodeProto Replace(NodeProto node, List<string> inputs, List<string> outputs)
    {
        if (inputs.SequenceEqual(node.Input, StringComparer.Ordinal) && outputs.SequenceEqual(node.Output, StringComparer.Ordinal))
        {
            return node;
        }

        var copy = node.Clone();
        copy.Input.Clear();
        copy.Input.AddRange(inputs);
        copy.Output.Clear();
        copy.Output.AddRange(outputs);
        return copy;
    }
}
