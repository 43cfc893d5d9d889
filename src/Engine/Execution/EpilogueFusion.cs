using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// An optimisation of the executor's own plan, run only when asked
/// (<see cref="ExecutionOptions.FuseEpilogues"/>): a Conv whose output only a BatchNormalization
/// reads, and/or whose (or whose BatchNorm's) output only an Activation reads, becomes one step
/// that applies the BatchNorm and activation to each output block while it is still in cache
/// (<see cref="ConvEpilogue"/>), darknet's conv layer as one pass. Values somebody asked for are
/// never fused away. The arithmetic is the separate kernels' own, so the result is bit-identical
/// (tests/Engine.Tests/Execution/EpilogueFusionTests.cs checks it on Darknet, Caffe and ONNX chains).
/// </summary>
internal static class EpilogueFusion
{
    /// <summary>
    /// <paramref name="steps"/>, an unfused plan (one step per node, in run order), with each chain
    /// as one step; a chain never hides a value in <paramref name="requested"/>, and a BatchNorm
    /// fuses only when its statistics are weights (<paramref name="isWeight"/>).
    /// </summary>
    public static List<PlanStep> Apply(IReadOnlyList<PlanStep> steps, IReadOnlySet<string> requested, Func<string, bool> isWeight)
    {
        var liveness = new Liveness(steps.Select(s => s.Reads), requested);
        int? SoleReader(string value) =>
            !liveness.IsKept(value) && liveness.Readers(value) == 1 && liveness.LastRead(value) is var reader and >= 0 ? reader : null;

        var fused = new HashSet<int>();
        var result = new List<PlanStep>(steps.Count);
        for (var i = 0; i < steps.Count; i++)
        {
            if (fused.Contains(i))
            {
                continue;
            }

            var conv = steps[i].Node;
            if (conv.OpType != "Conv")
            {
                result.Add(steps[i]);
                continue;
            }

            var output = conv.Outputs[0];
            Node? batchNorm = null, activation = null;
            if (SoleReader(output) is { } b && steps[b].Node is { OpType: "BatchNormalization" } bn && bn.Inputs[0] == output && bn.Outputs.Count == 1
                && bn.Inputs.Skip(1).All(s => s.Length == 0 || isWeight(s)))
            {
                (batchNorm, output) = (bn, bn.Outputs[0]);
                fused.Add(b);
            }

            if (SoleReader(output) is { } a && steps[a].Node is { OpType: "Activation" } act && act.Inputs.Count == 1 && act.Outputs.Count == 1
                && act.AttributesAs<ActivationAttributes>().Function != "prelu")
            {
                (activation, output) = (act, act.Outputs[0]);
                fused.Add(a);
            }

            result.Add(batchNorm is null && activation is null ? steps[i] : new PlanStep(conv, [output], new FusedChain(batchNorm, activation)));
        }

        return result;
    }
}

/// <summary>The BatchNormalization and/or Activation a convolution runs as its epilogue.</summary>
internal sealed record FusedChain(Node? BatchNorm, Node? Activation);
