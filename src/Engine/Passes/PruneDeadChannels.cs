using System.Globalization;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Removes channels whose output is provably constant, losslessly. Runs after the folds (not in
/// <see cref="PassManager.Default"/>; <c>--prune-dead-channels</c>), where a BatchNorm scale of 0 has
/// become an all-zero filter row and a bias.
/// <para>Before: <c>X → Conv(W1, b1) → act → … → Conv(W2, b2)</c>, row c of W1 all zero, so channel c is
/// the constant <c>t = act(b1_c)</c> everywhere.</para>
/// <para>After: <c>X → Conv(W1 without row c, b1 without c) → act → … → Conv(W2 without input slice c, b2')</c>:
/// every value the channel flows through (max pooling, nearest resize, concat / route, same-shape
/// add / shortcut, depthwise conv, activations, identities) carries one channel less.</para>
/// <para>Preconditions: every channel that must go together (the channel through every node it
/// passes, and the matching channel of every other input of an add) is constant; it comes from
/// producers whose weights are constant and not shared; every node it reaches is one the pass can
/// follow, and it reaches no model output (whose shape the model promises). Each consumer of a
/// constant nonzero channel takes it into its bias, which is exact only where the consumer sees the
/// constant at every position: a fully connected layer, or a conv that pads nothing (a padded conv
/// sees zeros at the border; the channel is kept and the report says so). A depthwise channel goes
/// with its input channel. No value is left without channels. The writer must be able to state the
/// new channel counts (<see cref="NodeEdit.ChannelsRemoved"/>). A failed precondition is "not applied"
/// at the producer, with the reason.</para>
/// <para>Formula: the consumer's weights lose input slice c; its bias gains
/// <c>b2'_o = b2_o + t * Σ W2[o, c, …]</c> (for a fully connected consumer, the sum over the
/// columns of channel c: <c>c*H*W … (c+1)*H*W - 1</c>). Double precision, stored as float32.</para>
/// </summary>
public sealed class PruneDeadChannels : ChannelPruningPass
{
    public override string Name => "PruneDeadChannels";

    public override void Run(GraphEditor graph, PassReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        var constants = ChannelFlow.ConstantChannels(graph);
        if (constants.Count == 0)
        {
            return;
        }

        var cuts = new Dictionary<Node, NodeCut>(ReferenceEqualityComparer.Instance);
        var removedFromValue = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<(string, long)>();
        var refusals = new Dictionary<(Node Node, string Reason), List<string>>();
        foreach (var node in graph.Graph.Nodes.ToList())
        {
            if (node.Outputs.Count == 0 || !constants.TryGetValue(node.Outputs[0], out var values))
            {
                continue;
            }

            for (long c = 0; c < values.Length; c++)
            {
                if (float.IsNaN(values[c]) || seen.Contains((node.Outputs[0], c)))
                {
                    continue;
                }

                var group = ChannelGroup.Trace(graph, constants, node.Outputs[0], c);
                seen.UnionWith(group.Slots);
                var reason = group.Blocker ?? Emptied(graph, group, removedFromValue);
                if (reason is not null)
                {
                    var at = group.Reporter ?? node;
                    if (!refusals.TryGetValue((at, reason), out var channels))
                    {
                        refusals[(at, reason)] = channels = [];
                    }

                    channels.Add(string.Create(CultureInfo.InvariantCulture, $"{c} of '{node.Outputs[0]}' (constant {values[c]:G6})"));
                    continue;
                }

                foreach (var (value, _) in group.Slots)
                {
                    removedFromValue[value] = removedFromValue.GetValueOrDefault(value) + 1;
                }

                group.AddTo(cuts);
            }
        }

        foreach (var ((node, reason), channels) in refusals)
        {
            NotApplied(report, node, $"channel {string.Join(", ", channels)} is constant but kept: {reason}");
        }

        if (cuts.Count > 0)
        {
            Apply(graph, report, cuts);
        }
    }
}
