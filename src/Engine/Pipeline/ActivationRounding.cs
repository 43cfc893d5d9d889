using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// A graph in which chosen activations are rounded as a static-quantizing export stores them
/// (<see cref="LossyActivation"/>), for <see cref="Verifier.LayerOutputErrors"/>.
/// Before: v → its readers.
/// After: v → Quantize (the value's scale and zero point, onto 0..255) → Power (scale * q - zero point * scale)
/// → the readers that read it rounded: every reader when its producing layer writes it rounded, else the
/// data input (input 0) of the quantized layers that read it. The graph's outputs stay the exact values, as
/// the export's do.
/// Preconditions: none; a value the graph does not compute is not read by anything and changes nothing.
/// Formula: x' = (clamp(round_half_even(x / scale) + zero point, 0, 255) - zero point) * scale.
/// Why these two operators: they are what the ONNX reader makes of QuantizeLinear → DequantizeLinear, so the
/// reference executor runs the export's arithmetic as it runs the export read back, with no mechanism of its own.
/// Nodes that read nothing rounded are shared with the given graph; the others are copies, so the given graph
/// is never changed.
/// </summary>
internal static class ActivationRounding
{
    public static Graph With(Graph graph, IReadOnlyCollection<LossyActivation> rounded)
    {
        var byValue = rounded.ToDictionary(a => a.Value, StringComparer.Ordinal);
        var copy = new Graph { OutputsChosen = graph.OutputsChosen };
        foreach (var (name, shape) in graph.Inputs)
        {
            copy.Inputs[name] = shape;
        }

        copy.Outputs.AddRange(graph.Outputs);
        foreach (var (name, init) in graph.Initializers)
        {
            copy.Initializers[name] = init;
        }

        var taken = new HashSet<string>(graph.Inputs.Keys.Concat(graph.Initializers.Keys).Concat(graph.Nodes.SelectMany(n => n.Outputs)), StringComparer.Ordinal);
        var roundedName = new Dictionary<string, string>(StringComparer.Ordinal);
        void Round(string value, LayerOrigin origin)
        {
            if (byValue.TryGetValue(value, out var activation))
            {
                var integers = Unique(taken, value + "/quantized");
                var back = Unique(taken, value + "/dequantized");
                copy.Nodes.Add(new Node(integers, Quantize.OpType, [value], [integers], origin,
                    Quantize.AttributesFor(new QuantizeAttributes(activation.Scale, activation.ZeroPoint, 0, 255))));
                copy.Nodes.Add(new Node(back, Power.OpType, [integers], [back], origin,
                    Power.AttributesFor(new PowerAttributes(1, activation.Scale, -activation.ZeroPoint * (double)activation.Scale))));
                roundedName[value] = back;
            }
        }

        foreach (var input in graph.Inputs.Keys.Where(_ => graph.Nodes.Count > 0))
        {
            // An input has no layer of its own: its rounding is placed (for messages) at the first layer.
            Round(input, graph.Nodes[0].Origin);
        }

        foreach (var node in graph.Nodes)
        {
            var inputs = node.Inputs.Select((value, i) => roundedName.TryGetValue(value, out var back) && ReadsRounded(byValue[value], node, i) ? back : value).ToList();
            copy.Nodes.Add(inputs.SequenceEqual(node.Inputs, StringComparer.Ordinal) ? node
                : new Node(node.Name, node.OpType, inputs, node.Outputs, node.Origin, node.Attributes) { SourceName = node.SourceName, InPlace = node.InPlace });
            foreach (var output in node.Outputs)
            {
                Round(output, node.Origin);
            }
        }

        return copy;
    }

    /// <summary>Whether input <paramref name="index"/> of <paramref name="node"/> reads the rounded value: every input does when the producer writes it rounded, else a quantized reader's data input.</summary>
    private static bool ReadsRounded(LossyActivation activation, Node node, int index) =>
        activation.Producer is not null || (index == 0 && activation.Readers.Any(r => r.Index == node.Origin.Index));

    private static string Unique(HashSet<string> taken, string stem)
    {
        var name = stem;
        for (var i = 1; !taken.Add(name); i++)
        {
            name = $"{stem}_{i}";
        }

        return name;
    }
}
