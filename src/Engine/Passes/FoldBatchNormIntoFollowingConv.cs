using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// The forward fold: a BatchNormalization whose only reader is an unpadded convolution is merged
/// into that convolution.
/// <para>Before: <c>X → BatchNormalization(s, t as a per-channel affine) → Conv(W, b?) → Y</c></para>
/// <para>After: <c>X → Conv(W', b') → Y</c></para>
/// <para>Preconditions: the BN output has exactly one reader, a Conv; the Conv has no padding (with
/// zero padding the border windows see padded zeros where the original saw <c>t</c>, so only the
/// unpadded case is exact — then nothing is folded and the report says why); weights and statistics
/// constant, loaded and not shared.</para>
/// <para>Formula: <c>W'[co,ci,…] = W[co,ci,…] · s_ci</c> (ci mapped into co's group),
/// <c>b'_co = b_co + Σ_{ci,kh,kw} W[co,ci,kh,kw] · t_ci</c> (a conv without bias gains one). The
/// backward folds run first, so a conv that had a BatchNorm of its own already has a bias here.</para>
/// </summary>
public sealed class FoldBatchNormIntoFollowingConv : GraphPass
{
    public override string Name => "FoldBatchNormIntoFollowingConv";

    public override void Run(GraphEditor graph, PassReport report)
    {
        var initializers = graph.Graph.Initializers;
        foreach (var bn in graph.Graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (!graph.Contains(bn))
            {
                continue;
            }

            var consumers = graph.Readers(bn.Outputs[0]);
            if (consumers.Count != 1 || consumers[0].OpType != "Conv" || graph.Graph.Outputs.Contains(bn.Outputs[0]) || !bn.AttributesAs<BatchNormAttributes>().UseGlobalStats)
            {
                continue; // Not the forward pattern; FoldBatchNorm reports on this BN.
            }

            var conv = consumers[0];
            if (conv.AttributesAs<ConvAttributes>().Window.HasPadding)
            {
                NotApplied(report, bn, $"the conv that reads it ('{conv.Name}') pads with zeros; folding the shift would change its border outputs, so nothing is folded");
                continue;
            }

            if (!initializers.TryGetValue(conv.Inputs[1], out var weights) || weights.Data is null
                || graph.ReadingNodeCount(conv.Inputs[1]) != 1
                || !AffineCoefficients.HasConstantParameters(graph.Graph, bn)
                || (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && initializers.GetValueOrDefault(conv.Inputs[2])?.Data is null))
            {
                NotApplied(report, bn, $"the weights of '{conv.Name}' or the BN statistics are not constant, not loaded or shared");
                continue;
            }

            if ((graph.CannotExpress(conv, NodeEdit.ParametersReplaced) ?? graph.CannotExpress(bn, NodeEdit.Removed)) is { } unwritable)
            {
                NotApplied(report, bn, unwritable);
                continue;
            }

            var affine = AffineCoefficients.FromBatchNorm(graph.Graph, bn, report, Name);
            report.Folds.Add(Fold(graph, bn, conv, weights, affine));
            Applied(report, bn, $"folded forward into Conv '{conv.Name}' ({affine.Channels} input channels)");
        }

        graph.RemoveUnusedInitializers();
    }

    private FoldRecord Fold(GraphEditor editor, Node bn, Node conv, Initializer weights, AffineCoefficients affine)
    {
        var graph = editor.Graph;
        var inputShape = editor.Shapes[bn.Inputs[0]];
        var original = new List<Node> { GraphEditor.CloneNode(bn), GraphEditor.CloneNode(conv) };
        var originalInits = AffineIntoProducer.InitializersReadBy(graph, original);

        var w = weights.Shape;
        var cout = w[0];
        var cinPerGroup = w[1];
        var coutPerGroup = cout / conv.AttributesAs<ConvAttributes>().Group;
        var area = w[2] * w[3];
        long InputChannel(long co, long ci) => ((co / coutPerGroup) * cinPerGroup) + ci;

        // The shift through the original weights, in double.
        var values = weights.Data!.ToArray();
        var hasBias = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0;
        var oldBias = hasBias ? graph.Initializers[conv.Inputs[2]].Data!.ToArray() : new float[cout];
        var bias = new float[cout];
        for (long co = 0; co < cout; co++)
        {
            double sum = oldBias[co];
            for (long ci = 0; ci < cinPerGroup; ci++)
            {
                var t = affine.Shift[InputChannel(co, ci)];
                var offset = ((co * cinPerGroup) + ci) * area;
                for (long k = 0; k < area; k++)
                {
                    sum += values[offset + k] * t;
                }
            }

            bias[co] = (float)sum;
        }

        var newWeights = new Initializer(editor.UniqueValueName(conv.Name + "/folded_weights"), w,
            new BlockScaledData(weights.Data!, area, block => affine.A[InputChannel(block / cinPerGroup, block % cinPerGroup)]));
        var newBias = new Initializer(editor.UniqueValueName(conv.Name + "/folded_bias"), new Shape(cout), new ArrayData(bias));
        editor.AddInitializer(newWeights);
        editor.AddInitializer(newBias);
        editor.SetInput(conv, 1, newWeights.Name);
        editor.SetInput(conv, hasBias ? 2 : conv.Inputs.Count, newBias.Name);
        editor.SetInput(conv, 0, bn.Inputs[0]);
        editor.Remove(bn);
        return new FoldRecord(Name, bn.Origin, bn.Inputs[0], inputShape, original, originalInits,
            [GraphEditor.CloneNode(conv)],
            new Dictionary<string, Initializer>(StringComparer.Ordinal) { [newWeights.Name] = newWeights, [newBias.Name] = newBias });
    }
}
