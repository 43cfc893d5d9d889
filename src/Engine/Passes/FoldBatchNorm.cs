using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Folds an inference BatchNormalization into the conv, grouped/depthwise conv, deconv or fully
/// connected layer that produces its input.
/// <para>Before: <c>X → Conv(W, b?) → BatchNormalization(gamma, beta, mean, var) → Y</c></para>
/// <para>After: <c>X → Conv(W', b') → Y</c></para>
/// <para>Preconditions: the producer's output has exactly one consumer (this BN); its weights are
/// constant, loaded and not shared with another layer; the BN's statistics are constant. Non-finite
/// statistics are an error (NM0040); near-zero variances are a warning (NM2003) naming the channels.
/// A Caffe BatchNorm with <c>use_global_stats: false</c> is not folded (it normalises with batch
/// statistics); its missing gamma/beta are 1 and 0.</para>
/// <para>Formula: <c>A_c = gamma_c / D(var_c)</c> with D per the node's epsilon placement
/// (AlexeyAB, Caffe, ONNX: <c>sqrt(var + eps)</c>; pjreddie's CPU forward: <c>sqrt(var) + eps</c>),
/// <c>W'[c,…] = A_c W[c,…]</c> (deconv: along the output-channel axis 1, per group),
/// <c>b'_c = A_c (b_c - mean_c) + beta_c</c>. Double precision, stored as float32.</para>
/// </summary>
public sealed class FoldBatchNorm : GraphPass
{
    public override string Name => "FoldBatchNorm";

    public override void Run(GraphEditor graph, PassReport report)
    {
        foreach (var bn in graph.Graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (!bn.AttributesAs<BatchNormAttributes>().UseGlobalStats)
            {
                NotApplied(report, bn, "use_global_stats is false: Caffe normalises with the batch's own statistics even at test time, so the stored ones do not describe what the layer computes");
                continue;
            }

            var producer = AffineIntoProducer.FindProducer(graph, bn, out var reason);
            if (producer is null)
            {
                NotApplied(report, bn, reason);
                continue;
            }

            if (!AffineCoefficients.HasConstantParameters(graph.Graph, bn))
            {
                NotApplied(report, bn, "its statistics are not constant or not loaded");
                continue;
            }

            var affine = AffineCoefficients.FromBatchNorm(graph.Graph, bn, report, Name);
            report.Folds.Add(AffineIntoProducer.Fold(graph, producer, bn, affine, Name));
            Applied(report, bn, $"folded into {producer.OpType} '{producer.Name}' ({affine.Channels} channels)");
        }

        graph.RemoveUnusedInitializers();
    }
}
