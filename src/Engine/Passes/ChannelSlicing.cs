using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// The weight surgery of <see cref="PruneDeadChannels"/>: a conv's or fully connected layer's
/// weights without some output rows and some input slices, the constants of the removed inputs
/// folded into its bias, and a depthwise conv's group count.
/// </summary>
internal static class ChannelSlicing
{
    public static void Cut(GraphEditor editor, Node node, NodeCut cut)
    {
        var graph = editor.Graph;
        var weights = graph.Initializers[node.Inputs[1]];
        var hasBias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0;
        var bias = hasBias ? graph.Initializers[node.Inputs[2]] : null;
        var oldBias = bias?.Data!.ToArray();
        var all = weights.Data!.ToArray();
        var w = weights.Shape;

        // Every layout as (outputs, input channels, span): a conv (O, I, kh, kw) has span kh*kw; a
        // fully connected layer (J, C*H*W) span H*W per channel; stored (I, J) it is transposed.
        var transposed = node.OpType == "FullyConnected" && node.AttributesAs<FullyConnectedAttributes>().Transposed;
        long outputs = transposed ? w[1] : w[0];
        long inputsFlat = w.ElementCount / outputs;
        var span = node.OpType == "Conv" ? w[2] * w[3] : cut.Inputs.Count > 0 ? cut.Inputs.First().Value.Span : inputsFlat;
        var channels = inputsFlat / span;
        long Index(long o, long i, long s) => transposed ? (((i * span) + s) * outputs) + o : (((o * channels) + i) * span) + s;

        var keptOutputs = Enumerable.Range(0, (int)outputs).Select(o => (long)o).Where(o => !cut.Rows.Contains(o)).ToArray();
        var keptInputs = Enumerable.Range(0, (int)channels).Select(i => (long)i).Where(i => !cut.Inputs.ContainsKey(i)).ToArray();

        var newWeights = new float[keptOutputs.Length * keptInputs.Length * span];
        var at = 0;
        if (transposed)
        {
            foreach (var i in keptInputs)
            {
                for (long s = 0; s < span; s++)
                {
                    foreach (var o in keptOutputs)
                    {
                        newWeights[at++] = all[Index(o, i, s)];
                    }
                }
            }
        }
        else
        {
            foreach (var o in keptOutputs)
            {
                foreach (var i in keptInputs)
                {
                    Array.Copy(all, Index(o, i, 0), newWeights, at, span);
                    at += (int)span;
                }
            }
        }

        var newShape = transposed
            ? new Shape(keptInputs.Length * span, keptOutputs.Length)
            : new Shape([keptOutputs.Length, .. w.Dims.Count == 2 ? [keptInputs.Length * span] : (long[])[keptInputs.Length, .. w.Dims.Skip(2)]]);
        var weightsInit = new Initializer(editor.UniqueValueName(node.Name + "/pruned_weights"), newShape, new ArrayData(newWeights));
        editor.AddInitializer(weightsInit);
        editor.SetInput(node, 1, weightsInit.Name);

        if (bias is not null)
        {
            var newBias = new float[keptOutputs.Length];
            for (var k = 0; k < keptOutputs.Length; k++)
            {
                var o = keptOutputs[k];
                double value = oldBias![o];
                foreach (var (i, (constant, _)) in cut.Inputs)
                {
                    if (constant == 0)
                    {
                        continue;
                    }

                    double sum = 0;
                    for (long s = 0; s < span; s++)
                    {
                        sum += all[Index(o, i, s)];
                    }

                    value += constant * sum;
                }

                newBias[k] = (float)value;
            }

            var biasShape = bias.Shape.WithDim(bias.Shape.Rank - 1, keptOutputs.Length);
            var biasInit = new Initializer(editor.UniqueValueName(node.Name + "/pruned_bias"), biasShape, new ArrayData(newBias));
            editor.AddInitializer(biasInit);
            editor.SetInput(node, 2, biasInit.Name);
        }

        if (node.OpType == "Conv" && node.AttributesAs<ConvAttributes>().Group > 1)
        {
            // Depthwise: one group per channel that is left.
            node.Attributes.Set("group", (long)keptOutputs.Length);
        }
    }
}
