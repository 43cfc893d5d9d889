namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Darknet's softmax(input, n, temp, stride, output) in its float arithmetic: the max, then
/// <c>e_i = exp(x_i/temp - max/temp)</c> summed in order, then each <c>e_i / sum</c>. Safe in place
/// (each element is read before it is written).
/// </summary>
internal static class DarknetSoftmax
{
    public static void Apply(ReadOnlySpan<float> input, int offset, int n, int stride, float temperature, Span<float> output)
    {
        var largest = float.MinValue;
        for (var i = 0; i < n; i++)
        {
            var v = input[offset + (i * stride)];
            largest = v > largest ? v : largest;
        }

        var shift = largest / temperature;
        var sum = 0f;
        for (var i = 0; i < n; i++)
        {
            var index = offset + (i * stride);
            var e = (float)Math.Exp((input[index] / temperature) - shift);
            sum += e;
            output[index] = e;
        }

        for (var i = 0; i < n; i++)
        {
            output[offset + (i * stride)] /= sum;
        }
    }

    /// <summary>
    /// Darknet's softmax_tree: from <paramref name="offset"/>, consecutive groups of
    /// <paramref name="groupSizes"/> values (each value <paramref name="stride"/> apart), each with its
    /// own softmax; the groups follow one another along the same axis.
    /// </summary>
    public static void ApplyGroups(ReadOnlySpan<float> input, int offset, long[] groupSizes, int stride, float temperature, Span<float> output)
    {
        foreach (var size in groupSizes)
        {
            var n = checked((int)size);
            Apply(input, offset, n, stride, temperature, output);
            offset += n * stride;
        }
    }
}
