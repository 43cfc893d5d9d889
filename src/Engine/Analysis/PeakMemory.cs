using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// Peak live activation memory over the execution order. A buffer lives from the node that
/// writes it to its last reader (graph inputs from the start, graph outputs to the end); an
/// in-place node writes into its input's buffer instead of a new one (all of its outputs: Caffe's
/// Split hands the same buffer to every top). Weights are not activations. Value lifetimes come
/// from <see cref="Liveness"/>, as the executor's do.
/// </summary>
public static class PeakMemory
{
    public sealed record Result(long PeakBytes, int PeakNodeIndex);

    public static Result Compute(Graph graph, IReadOnlyDictionary<string, Shape> shapes, Func<string, long> bytesOf)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(bytesOf);
        var liveness = new Liveness(graph.Nodes.Select(n => n.Inputs), graph.Outputs);
        var bufferOf = new Dictionary<string, int>(graph.Nodes.Count + graph.Inputs.Count, StringComparer.Ordinal);
        var size = new List<long>();
        var born = new List<int>();
        var lastUse = new List<int>();

        void Write(string value, int step, int? alias)
        {
            int buffer;
            if (alias is { } shared)
            {
                buffer = shared;
                size[buffer] = Math.Max(size[buffer], bytesOf(value));
            }
            else
            {
                buffer = size.Count;
                size.Add(bytesOf(value));
                born.Add(step);
                lastUse.Add(step);
            }

            bufferOf[value] = buffer;
            lastUse[buffer] = Math.Max(lastUse[buffer], liveness.AliveUntil(value, step));
        }

        foreach (var input in graph.Inputs.Keys)
        {
            Write(input, 0, alias: null);
        }

        for (var step = 0; step < graph.Nodes.Count; step++)
        {
            var node = graph.Nodes[step];
            int? alias = node.InPlace && node.Inputs.Count > 0 && bufferOf.TryGetValue(node.Inputs[0], out var b) ? b : null;
            foreach (var output in node.Outputs)
            {
                Write(output, step, alias);
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
