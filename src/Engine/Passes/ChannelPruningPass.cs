using System.Globalization;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// What the two channel-pruning passes share: <see cref="PruneDeadChannels"/> (lossless) and
/// <see cref="PruneChannels"/> (chosen channels, lossy) both trace each channel's
/// <see cref="ChannelGroup"/>, refuse one that would empty a value, and cut the groups' rows and
/// input slices from every node they touch (<see cref="ChannelSlicing"/>), reporting each node's
/// params, MACC and weight bytes before and after.
/// </summary>
public abstract class ChannelPruningPass : GraphPass
{
    /// <summary>Null, or why removing the group would leave a value without channels.</summary>
    private protected static string? Emptied(GraphEditor graph, ChannelGroup group, Dictionary<string, int> removedFromValue)
    {
        foreach (var value in group.Slots.Select(s => s.Value).Distinct(StringComparer.Ordinal))
        {
            var count = group.Slots.Count(s => s.Value == value);
            if (removedFromValue.GetValueOrDefault(value) + count >= graph.Shapes[value][1])
            {
                return $"'{value}' would be left without channels";
            }
        }

        return null;
    }

    private protected void Apply(GraphEditor graph, PassReport report, Dictionary<Node, NodeCut> cuts)
    {
        var before = new Dictionary<Node, (long Params, long Macc, long WeightBytes)>(ReferenceEqualityComparer.Instance);
        foreach (var node in cuts.Keys)
        {
            before[node] = NodeFigures.Of(node, graph.Graph, graph.Shapes);
        }

        foreach (var (node, cut) in cuts)
        {
            ChannelSlicing.Cut(graph, node, cut);
        }

        graph.ShapesChanged();
        graph.RemoveUnusedInitializers();
        foreach (var (node, cut) in cuts)
        {
            var (paramsBefore, maccBefore, bytesBefore) = before[node];
            var (paramsAfter, maccAfter, bytesAfter) = NodeFigures.Of(node, graph.Graph, graph.Shapes);
            report.Pruning.Add(new ChannelPruning(Name, node.Name, node.Origin, cut.Rows.Count, cut.Inputs.Count,
                paramsBefore, paramsAfter, maccBefore, maccAfter, bytesBefore, bytesAfter));
            var rows = cut.Rows.Count == 0 ? null : $"{cut.Rows.Count} output channel(s) ({string.Join(", ", cut.Rows.Order())})";
            var inputs = cut.Inputs.Count == 0 ? null : $"{cut.Inputs.Count} input channel(s) ({string.Join(", ", cut.Inputs.Keys)}){(cut.Inputs.Values.Any(i => i.Constant != 0) ? ", their constants folded into the bias" : string.Empty)}";
            Applied(report, node, string.Create(CultureInfo.InvariantCulture,
                $"removed {string.Join(" and ", new[] { rows, inputs }.Where(s => s is not null))}: params {paramsBefore:N0} -> {paramsAfter:N0} (-{paramsBefore - paramsAfter:N0}), MACC {maccBefore:N0} -> {maccAfter:N0} (-{maccBefore - maccAfter:N0}), weight bytes {bytesBefore:N0} -> {bytesAfter:N0} (-{bytesBefore - bytesAfter:N0})"));
        }
    }
}

/// <summary>What pruning takes from one node: output channels (its weights' rows) and input channels (with the constant each carried).</summary>
internal sealed class NodeCut
{
    public HashSet<long> Rows { get; } = [];

    /// <summary>Input channel → its constant and how many consecutive inputs of a fully connected layer it spans (H*W; a conv's span is its kernel area).</summary>
    public SortedDictionary<long, (float Constant, long Span)> Inputs { get; } = [];
}

/// <summary>Parameters, MACC and weight bytes of one node for given shapes (the figures the cost model sums per layer).</summary>
internal static class NodeFigures
{
    public static (long Params, long Macc, long WeightBytes) Of(Node node, Graph graph, IReadOnlyDictionary<string, Shape> shapes)
    {
        var inputs = node.Inputs.Select(i => i.Length == 0 ? null : shapes[i]).ToList();
        var outputs = node.Outputs.Select(o => shapes[o]).ToList();
        var macc = OpRegistry.Get(node).Cost(new OpContext(node, inputs, outputs)).Macc;
        long parameters = 0, bytes = 0;
        foreach (var input in node.Inputs)
        {
            if (graph.Initializers.TryGetValue(input, out var initializer))
            {
                parameters += initializer.Shape.ElementCount;
                bytes += initializer.ByteSize;
            }
        }

        return (parameters, macc, bytes);
    }
}
