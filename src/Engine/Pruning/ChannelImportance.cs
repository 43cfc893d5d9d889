using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Pruning;

/// <summary>
/// The importance of each output channel of a conv layer; the lowest go first.
/// <list type="bullet">
/// <item><c>l1</c>: <c>Σ |W[c, i, kh, kw]|</c>, the filter's L1 norm (Li et al., "Pruning Filters for Efficient ConvNets").</item>
/// <item><c>bn-gamma</c>: <c>|γ_c|</c> of the layer's BatchNorm: the channel's output after normalisation is
/// <c>γ_c · x̂ + β_c</c>, so a small |γ| leaves a nearly constant channel (Liu et al., "Network Slimming").</item>
/// <item><c>entropy</c>: <c>H_c = -Σ_b p_b log2 p_b</c> over a <see cref="Bins"/>-bin histogram of every value the
/// channel takes at the layer's output over all calibration inputs, the bins spanning the channel's own
/// [min, max]; a constant channel has 0 (Luo and Wu, "An Entropy-based Pruning Method for CNN
/// Compression", who histogram per-input channel means; all values are used here so that a few inputs
/// already give a full histogram, see docs/prune-plan.md).</item>
/// </list>
/// </summary>
public static class ChannelImportance
{
    public const int Bins = 32;

    /// <summary>Filter L1 norm per output channel, reading one filter at a time.</summary>
    public static double[] L1(Graph graph, PrunableLayer layer)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(layer);
        var weights = graph.Initializers[layer.Conv.Inputs[1]];
        var channels = weights.Shape[0];
        var row = new float[weights.Shape.ElementCount / channels];
        var scores = new double[channels];
        using var files = new OpenFiles();
        for (var c = 0; c < channels; c++)
        {
            weights.Data!.CopyTo(c * row.Length, row, files);
            foreach (var w in row)
            {
                scores[c] += Math.Abs(w);
            }
        }

        return scores;
    }

    /// <summary>
    /// |γ| of the layer's BatchNorm; null when it has none. A BatchNorm without a scale of its own
    /// (Caffe's BatchNorm layer) takes γ from the scale that follows it in the layer (Caffe's Scale).
    /// </summary>
    public static double[]? BnGamma(Graph graph, PrunableLayer layer)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(layer);
        if (layer.BatchNorm is not { } bn)
        {
            return null;
        }

        var gamma = bn.Inputs[1].Length > 0
            ? bn.Inputs[1]
            : layer.Chain.SkipWhile(n => !ReferenceEquals(n, bn)).FirstOrDefault(n => n.OpType == "ChannelAffine" && n.Inputs.Count > 1 && n.Inputs[1].Length > 0)?.Inputs[1];
        return gamma is null ? null : [.. graph.Initializers[gamma].Data!.ToArray().Select(g => (double)Math.Abs(g))];
    }

    /// <summary>Entropy in bits of each channel's histogram (see the class summary).</summary>
    public static double[] Entropy(long[][] histograms)
    {
        ArgumentNullException.ThrowIfNull(histograms);
        var scores = new double[histograms.Length];
        for (var c = 0; c < histograms.Length; c++)
        {
            double total = histograms[c].Sum();
            foreach (var count in histograms[c])
            {
                if (count > 0)
                {
                    var p = count / total;
                    scores[c] -= p * Math.Log2(p);
                }
            }
        }

        return scores;
    }

    /// <summary>Adds the values of an (N, C, …) tensor to per-channel histograms whose bins span each channel's [min, max].</summary>
    public static void AddToHistograms(ReadOnlySpan<float> values, Shape shape, (float Min, float Max)[] ranges, long[][] histograms)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(histograms);
        var channels = (int)shape[1];
        var spatial = (int)(shape.ElementsPerItem / channels);
        for (var i = 0; i < values.Length; i++)
        {
            var c = i / spatial % channels;
            var (min, max) = ranges[c];
            var bin = max > min ? (int)Math.Min(Bins - 1, Math.Floor((values[i] - (double)min) / ((double)max - min) * Bins)) : 0;
            histograms[c][bin]++;
        }
    }

    /// <summary>Widens per-channel [min, max] ranges by the values of an (N, C, …) tensor.</summary>
    public static void AddToRanges(ReadOnlySpan<float> values, Shape shape, (float Min, float Max)[] ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var channels = (int)shape[1];
        var spatial = (int)(shape.ElementsPerItem / channels);
        for (var i = 0; i < values.Length; i++)
        {
            var c = i / spatial % channels;
            ranges[c] = (Math.Min(ranges[c].Min, values[i]), Math.Max(ranges[c].Max, values[i]));
        }
    }

    /// <summary>The <paramref name="count"/> least important channels (ties: the lower index first), in ascending channel order.</summary>
    public static long[] LeastImportant(double[] scores, int count)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return [.. Enumerable.Range(0, scores.Length).OrderBy(c => scores[c]).ThenBy(c => c).Take(count).Select(c => (long)c).Order()];
    }
}
