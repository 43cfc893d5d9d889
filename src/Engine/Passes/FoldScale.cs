namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Folds a lone per-channel affine map (Caffe Scale without a BatchNorm before it, Caffe Bias) into
/// the conv, deconv or FC layer that produces its input.
/// <para>Before: <c>X → Conv(W, b?) → ChannelAffine(s?, t?) → Y</c>; After: <c>X → Conv(W', b') → Y</c>.</para>
/// <para>Preconditions: as <see cref="FoldBatchNorm"/>; s and t constant and finite (an absent s is 1, an absent t 0).</para>
/// <para>Formula: <c>W'[c,…] = s_c W[c,…]</c>, <c>b'_c = s_c b_c + t_c</c>.</para>
/// </summary>
public sealed class FoldScale : GraphPass
{
    public override string Name => "FoldScale";

    public override void Run(GraphEditor graph, PassReport report)
    {
        foreach (var scale in graph.Graph.Nodes.Where(n => n.OpType == "ChannelAffine").ToList())
        {
            var producer = AffineIntoProducer.FindProducer(graph, scale, out var reason);
            if (producer is null)
            {
                NotApplied(report, scale, reason);
                continue;
            }

            if (!AffineCoefficients.HasConstantParameters(graph.Graph, scale))
            {
                NotApplied(report, scale, "its scale or bias is not constant or not loaded");
                continue;
            }

            var affine = AffineCoefficients.FromChannelAffine(graph.Graph, scale);
            report.Folds.Add(AffineIntoProducer.Fold(graph, producer, scale, affine, Name));
            Applied(report, scale, $"folded into {producer.OpType} '{producer.Name}' ({affine.Channels} channels)");
        }

        graph.RemoveUnusedInitializers();
    }
}
