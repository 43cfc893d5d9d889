using System.Globalization;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Removes chosen output channels of chosen conv layers: lossy channel pruning, whose cost
/// <c>prune-plan</c> measures (not in <see cref="PassManager.Default"/>). The same removal as
/// <see cref="PruneDeadChannels"/> (one <see cref="ChannelGroup"/> per channel, cut by
/// <see cref="ChannelSlicing"/>), with the channel forced to 0 instead of found constant.
/// <para>Before: <c>X → Conv(W, b) → [BatchNorm] → [act] → … → Conv(W2, b2)</c>, the layer's channels
/// 0 … C-1 all used.</para>
/// <para>After: the conv without rows c, its BatchNorm / scale without entries c, every value the
/// channels flow through (pooling, nearest resize, concat / route, depthwise conv, activations) one
/// channel less per c, and every consumer without input slice c.</para>
/// <para>Preconditions: the layer is a <see cref="PrunableLayer"/>; each channel's group reaches only
/// nodes the removal can follow and no model output; it needs no other layer's channel (the other
/// input of an add / shortcut is not removed with it: "a shortcut group" is refused); a depthwise
/// conv after it becomes its bias, which folds into the next consumer only where that pads nothing;
/// no value is left without channels; the writer can state the new counts. A failed precondition
/// leaves the whole layer as it is, "not applied" with the reason.</para>
/// <para>Formula: the pruned model computes what the original computes with the layer's output
/// channels c set to 0 (after its BatchNorm and activation): a 0 input channel contributes nothing to a
/// consumer, so its weights go; where it becomes a constant t downstream (a depthwise conv's bias),
/// <c>b2'_o = b2_o + t * Σ W2[o, c, …]</c> as in <see cref="PruneDeadChannels"/>.</para>
/// </summary>
public sealed class PruneChannels(IReadOnlyDictionary<string, IReadOnlyList<long>> channelsByLayer) : ChannelPruningPass
{
    /// <summary>The layers refused in the first run; null before it. The channels are indices of the graph as given, so the pass removes them once, though <see cref="PassManager"/> runs passes in rounds (and keeps the last round's refusals).</summary>
    private List<(Node Node, string Reason)>? _refusals;

    /// <summary>Each layer that keeps its channels (by node name), with the reason; empty before <see cref="Run"/>.</summary>
    public IReadOnlyDictionary<string, string> Refusals { get; private set; } = new Dictionary<string, string>();

    public override string Name => "PruneChannels";

    public override void Run(GraphEditor graph, PassReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        if (_refusals is not null)
        {
            foreach (var (node, reason) in _refusals)
            {
                NotApplied(report, node, reason);
            }

            return;
        }

        _refusals = [];
        var cuts = new Dictionary<Node, NodeCut>(ReferenceEqualityComparer.Instance);
        var removedFromValue = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Graph.Nodes.ToList())
        {
            if (!channelsByLayer.TryGetValue(node.Name, out var channels) || channels.Count == 0)
            {
                continue;
            }

            var (groups, reason) = Trace(graph, node, channels, removedFromValue);
            if (reason is not null)
            {
                _refusals.Add((node, string.Create(CultureInfo.InvariantCulture, $"channel(s) {string.Join(", ", channels)} kept: {reason}")));
                NotApplied(report, node, _refusals[^1].Reason);
                Refusals = new Dictionary<string, string>(Refusals, StringComparer.Ordinal) { [node.Name] = reason };
                continue;
            }

            foreach (var group in groups)
            {
                foreach (var (value, _) in group.Slots)
                {
                    removedFromValue[value] = removedFromValue.GetValueOrDefault(value) + 1;
                }

                group.AddTo(cuts);
            }
        }

        if (cuts.Count > 0)
        {
            Apply(graph, report, cuts);
        }
    }

    /// <summary>Every chosen channel's group, or why the layer cannot lose them.</summary>
    private static (List<ChannelGroup> Groups, string? Reason) Trace(GraphEditor graph, Node node, IReadOnlyList<long> channels, Dictionary<string, int> removedFromValue)
    {
        if (PrunableLayer.Of(graph, node) is not { } layer)
        {
            return ([], PrunableLayer.WhyNot(graph, node));
        }

        var output = graph.Shapes[layer.Output][1];
        if (channels.Any(c => c < 0 || c >= output) || channels.Distinct().Count() != channels.Count)
        {
            return ([], string.Create(CultureInfo.InvariantCulture, $"the layer has channels 0 … {output - 1}, each named once"));
        }

        var seeds = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var value in layer.Values)
        {
            var forced = new float[output];
            Array.Fill(forced, float.NaN);
            foreach (var c in channels)
            {
                forced[c] = 0;
            }

            seeds[value] = forced;
        }

        var constants = ChannelFlow.ForcedChannels(graph, seeds);
        var perChannel = layer.Chain.Where(n => n.OpType is "BatchNormalization" or "ChannelAffine").ToHashSet();
        var planned = new Dictionary<string, int>(removedFromValue, StringComparer.Ordinal);
        var groups = new List<ChannelGroup>();
        foreach (var c in channels)
        {
            var group = ChannelGroup.Trace(graph, constants, layer.Output, c, perChannel,
                (v, k) => $"channel {k} of '{v}' would have to go with it, and it is another layer's (an add or shortcut needs the same channel removed from every input)");
            if ((group.Blocker ?? Emptied(graph, group, planned)) is { } reason)
            {
                return ([], reason);
            }

            foreach (var (value, _) in group.Slots)
            {
                planned[value] = planned.GetValueOrDefault(value) + 1;
            }

            groups.Add(group);
        }

        return (groups, null);
    }
}

/// <summary>
/// A conv layer whose output channels can be ranked and removed: a conv (group 1) with its own
/// weights, followed by the per-channel nodes that belong to it (its BatchNorm, a scale, an
/// activation), each the only reader of the value before it. <see cref="Output"/> is what the
/// layer's readers see: a removed channel is that value's channel set to 0.
/// </summary>
public sealed record PrunableLayer(Node Conv, IReadOnlyList<Node> Chain)
{
    public string Output => Chain.Count > 0 ? Chain[^1].Outputs[0] : Conv.Outputs[0];

    /// <summary>The layer's values, the conv's output first.</summary>
    public IEnumerable<string> Values => [Conv.Outputs[0], .. Chain.Select(n => n.Outputs[0])];

    /// <summary>The BatchNorm of the layer, if it has one.</summary>
    public Node? BatchNorm => Chain.FirstOrDefault(n => n.OpType == "BatchNormalization");

    public static PrunableLayer? Of(GraphEditor graph, Node conv)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(conv);
        if (conv.OpType != "Conv" || !ChannelFlow.IsProducer(graph, conv) || graph.Shapes[conv.Outputs[0]].Rank != 4)
        {
            return null;
        }

        var channels = graph.Shapes[conv.Outputs[0]][1];
        var chain = new List<Node>();
        var value = conv.Outputs[0];
        while (!graph.Graph.Outputs.Contains(value) && graph.Readers(value) is [{ Outputs.Count: 1 } next] && next.Inputs[0] == value && Follows(graph, next, channels))
        {
            chain.Add(next);
            value = next.Outputs[0];
        }

        return new PrunableLayer(conv, chain);
    }

    /// <summary>Why <paramref name="node"/> is not a <see cref="PrunableLayer"/>.</summary>
    public static string WhyNot(GraphEditor graph, Node node) => node.OpType != "Conv"
        ? $"'{node.Name}' is a {node.OpType}, not a conv layer"
        : node.AttributesAs<ConvAttributes>().Group != 1
            ? "a grouped or depthwise conv: its channels go with its input's"
            : "its weights are shared with another layer or not constant";

    /// <summary>A per-channel node of the layer: BatchNorm or a scale whose parameters are its own, one per channel; an activation without parameters.</summary>
    private static bool Follows(GraphEditor graph, Node node, long channels) => node.OpType switch
    {
        "Activation" => ChannelFlow.PassThroughOffset(graph, node, 0) is not null,
        "BatchNormalization" or "ChannelAffine" => node.Inputs.Skip(1).Where(i => i.Length > 0).All(i =>
            graph.Graph.Initializers.TryGetValue(i, out var p) && p.Data is not null && p.Shape.Rank == 1 && p.Shape[0] == channels && graph.ReadingNodeCount(i) == 1),
        _ => false,
    };
}
