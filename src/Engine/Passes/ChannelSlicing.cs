using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// The weight surgery of <see cref="PruneDeadChannels"/>: a conv's or fully connected layer's
/// weights without some output rows and some input slices, the constants of the removed inputs
/// folded into its bias, and a depthwise conv's group count. The pruned weights are lazy
/// (<see cref="RowSlicedData"/>), read row by row from the source when written, so pruning a large
/// model holds no second copy of its weights.
/// </summary>
internal static class ChannelSlicing
{
    public static void Cut(GraphEditor editor, Node node, NodeCut cut)
    {
        var graph = editor.Graph;
        if (node.OpType is "BatchNormalization" or "ChannelAffine")
        {
            CutPerChannel(editor, node, cut.Rows);
            return;
        }

        var weights = graph.Initializers[node.Inputs[1]];
        var w = weights.Shape;

        // Every layout as (outputs, input channels, span): a conv (O, I, kh, kw) has span kh*kw; a
        // fully connected layer (J, C*H*W) span H*W per channel; stored (I, J) it is transposed.
        // A MatMul by constant weights stores them (K, J): inputs first, as a transposed fully connected layer.
        var transposed = node.OpType == "MatMul" || (node.OpType == "FullyConnected" && node.AttributesAs<FullyConnectedAttributes>().Transposed);
        var outputs = transposed ? w[1] : w[0];
        var inputsFlat = w.ElementCount / outputs;
        var span = node.OpType == "Conv" ? w[2] * w[3] : cut.Inputs.Count > 0 ? cut.Inputs.First().Value.Span : inputsFlat;
        var channels = inputsFlat / span;
        var keptOutputs = Kept(outputs, cut.Rows.Contains);
        var keptInputs = Kept(channels, cut.Inputs.ContainsKey);
        var layout = new RowLayout(outputs, channels, span, transposed);

        TensorData data = transposed
            ? new ArrayData(layout.Materialise(weights.Data!, keptOutputs, keptInputs))
            : new RowSlicedData(weights.Data!, layout, keptOutputs, keptInputs);
        var newShape = transposed
            ? new Shape(keptInputs.Length * span, keptOutputs.Length)
            : new Shape([keptOutputs.Length, .. w.Dims.Count == 2 ? [keptInputs.Length * span] : (long[])[keptInputs.Length, .. w.Dims.Skip(2)]]);
        var weightsInit = new Initializer(editor.UniqueValueName(node.Name + "/pruned_weights"), newShape, data);

        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            var bias = graph.Initializers[node.Inputs[2]];
            var folded = layout.FoldedBias(weights.Data!, bias.Data!.ToArray(), cut.Inputs.Where(i => i.Value.Constant != 0).Select(i => (i.Key, (double)i.Value.Constant)).ToList());
            var newBias = keptOutputs.Select(o => (float)folded[o]).ToArray();
            var biasInit = new Initializer(editor.UniqueValueName(node.Name + "/pruned_bias"), bias.Shape.WithDim(bias.Shape.Rank - 1, keptOutputs.Length), new ArrayData(newBias));
            editor.AddInitializer(biasInit);
            editor.SetInput(node, 2, biasInit.Name);
        }

        editor.AddInitializer(weightsInit);
        editor.SetInput(node, 1, weightsInit.Name);
        if (node.OpType == "Conv" && node.AttributesAs<ConvAttributes>().Group > 1)
        {
            // Depthwise: one group per channel that is left.
            node.Attributes.Set("group", (long)keptOutputs.Length);
        }
    }

    /// <summary>A per-channel node's parameters (a BatchNorm's scale, shift, mean and variance; a scale's factors and bias) without the removed channels.</summary>
    private static void CutPerChannel(GraphEditor editor, Node node, HashSet<long> removed)
    {
        for (var i = 1; i < node.Inputs.Count; i++)
        {
            if (node.Inputs[i].Length == 0)
            {
                continue;
            }

            var parameter = editor.Graph.Initializers[node.Inputs[i]];
            var values = parameter.Data!.ToArray();
            var kept = Kept(values.Length, removed.Contains).Select(c => values[c]).ToArray();
            var sliced = new Initializer(editor.UniqueValueName($"{node.Name}/pruned_{i}"), parameter.Shape.WithDim(parameter.Shape.Rank - 1, kept.Length), new ArrayData(kept));
            editor.AddInitializer(sliced);
            editor.SetInput(node, i, sliced.Name);
        }
    }

    private static long[] Kept(long count, Func<long, bool> removed)
    {
        var kept = new List<long>();
        for (long i = 0; i < count; i++)
        {
            if (!removed(i))
            {
                kept.Add(i);
            }
        }

        return [.. kept];
    }
}

/// <summary>Weights seen as (outputs, input channels, span): row o holds channels × span values, unless stored transposed (inputs first).</summary>
internal sealed record RowLayout(long Outputs, long Channels, long Span, bool Transposed)
{
    public long RowLength => Channels * Span;

    private long Index(long o, long i, long s) => Transposed ? (((i * Span) + s) * Outputs) + o : (((o * Channels) + i) * Span) + s;

    /// <summary><c>b_o + Σ_c t_c Σ_s W[o, c, s]</c> for every output o, in double, reading the weights one row at a time.</summary>
    public double[] FoldedBias(TensorData weights, float[] bias, IReadOnlyList<(long Channel, double Constant)> constants)
    {
        var result = bias.Select(b => (double)b).ToArray();
        if (constants.Count == 0)
        {
            return result;
        }

        var all = Transposed ? weights.ToArray() : null;
        var row = new float[Transposed ? 0 : RowLength];
        using var files = new OpenFiles();
        for (long o = 0; o < Outputs; o++)
        {
            if (!Transposed)
            {
                weights.CopyTo(o * RowLength, row, files);
            }

            foreach (var (channel, constant) in constants)
            {
                double sum = 0;
                for (long s = 0; s < Span; s++)
                {
                    sum += Transposed ? all![Index(o, channel, s)] : row[(channel * Span) + s];
                }

                result[o] += constant * sum;
            }
        }

        return result;
    }

    /// <summary>The kept outputs and inputs of a transposed (inputs-first) layout, as an array in the same layout.</summary>
    public float[] Materialise(TensorData weights, long[] keptOutputs, long[] keptInputs)
    {
        var all = weights.ToArray();
        var result = new float[keptOutputs.Length * keptInputs.Length * Span];
        var at = 0;
        foreach (var i in keptInputs)
        {
            for (long s = 0; s < Span; s++)
            {
                foreach (var o in keptOutputs)
                {
                    result[at++] = all[Index(o, i, s)];
                }
            }
        }

        return result;
    }
}

/// <summary>
/// The rows <paramref name="keptOutputs"/> of a (outputs, channels, span) tensor, each without the
/// channels not in <paramref name="keptInputs"/>: computed on demand, one source row read per row.
/// </summary>
internal sealed class RowSlicedData(TensorData source, RowLayout layout, long[] keptOutputs, long[] keptInputs) : TensorData
{
    private long RowLength => keptInputs.Length * layout.Span;

    public override long ElementCount => keptOutputs.Length * RowLength;

    public override void CopyTo(Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(destination.Length, ElementCount, nameof(destination));
        CopyTo(0, destination);
    }

    public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        CheckRange(start, destination.Length);
        var sourceRow = new float[layout.RowLength];
        var row = new float[RowLength];
        var end = start + destination.Length;
        for (var r = start / RowLength; r * RowLength < end; r++)
        {
            source.CopyTo(keptOutputs[r] * layout.RowLength, sourceRow, files);
            for (var k = 0; k < keptInputs.Length; k++)
            {
                Array.Copy(sourceRow, keptInputs[k] * layout.Span, row, k * layout.Span, layout.Span);
            }

            var from = Math.Max(r * RowLength, start);
            var to = Math.Min((r + 1) * RowLength, end);
            row.AsSpan((int)(from - (r * RowLength)), (int)(to - from)).CopyTo(destination[(int)(from - start)..]);
        }
    }
}
