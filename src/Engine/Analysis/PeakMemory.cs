using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// Peak live activation memory over the execution order. A buffer lives from the node that
/// writes it to its last reader (graph inputs from the start, graph outputs to the end); an
/// in-place node writes into its input's buffer instead of a new one (all of its outputs: Caffe's
/// Split hands the same buffer to every top). Weights are not activations.
/// </summary>
public static class PeakMemory
{
    public sealed record Result(long PeakBytes, int PeakNodeIndex);

    public static Result Compute(Graph graph, IReadOnlyDictionary<string, Shape> shapes, Func<string, long> bytesOf)
    {
        var bufferOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var size = new List<long>();
        var born = new List<int>();
        var lastUse = new List<int>();
        var end = Math.Max(graph.Nodes.Count - 1, 0);

        int NewBuffer(string value, int step)
        {
            size.Add(bytesOf(value));
            born.Add(step);
            lastUse.Add(step);
            return size.Count - 1;
        }

        foreach (var input in graph.Inputs.Keys)
        {
            bufferOf[input] = NewBuffer(input, 0);
        }

        for (var step = 0; step < graph.Nodes.Count; step++)
        {
            var node = graph.Nodes[step];
            foreach (var input in node.Inputs)
            {
                if (bufferOf.TryGetValue(input, out var b))
                {
                    lastUse[b] = Math.Max(lastUse[b], step);
                }
            }

            for (var o = 0; o < node.Outputs.Count; o++)
            {
                var output = node.Outputs[o];
                if (node.InPlace && node.Inputs.Count > 0 && bufferOf.TryGetValue(node.Inputs[0], out var alias))
                {
                    bufferOf[output] = alias;
                    size[alias] = Math.Max(size[alias], bytesOf(output));
                }
                else
                {
                    bufferOf[output] = NewBuffer(output, step);
                }
            }
        }

        foreach (var output in graph.Outputs)
        {
            if (bufferOf.TryGetValue(output, out var b))
            {
                lastUse[b] = end;
            }
        }

        // Sweep: +size at birth, -size after last use.
        var delta = new long[graph.Nodes.Count + 2];
        for (var b = 0; b < size.Count; b++)
        {
            delta[born[b]] += size[b];
            delta[lastUse[b] + 1] -= size[b];
        }

        long live = 0, peak = 0;
        var peakAt = 0;
        for (var step = 0; step < graph.Nodes.Count; step++)
        {
            live = Checked.Add(live, delta[step]);
            if (live > peak)
            {
                (peak, peakAt) = (live, step);
            }
        }

        return new Result(peak, peakAt);
    }
}
