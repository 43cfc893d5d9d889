using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// How channels travel through the graph, for <see cref="PruneDeadChannels"/>: which nodes carry
/// channel c of their input to channel c' of their output unchanged in meaning (pooling, activation,
/// nearest resize, concat, same-shape add, depthwise conv), which nodes produce channels from
/// parameters (conv, fully connected) and which channels are provably constant.
/// </summary>
internal static class ChannelFlow
{
    /// <summary>A conv or fully connected layer whose output channels are rows of its own weights.</summary>
    public static bool IsProducer(GraphEditor graph, Node node) => node.OpType switch
    {
        "Conv" => node.AttributesAs<ConvAttributes>() is { Group: 1, Xnor: false } && HasConstantWeights(graph, node),
        "FullyConnected" => node.AttributesAs<FullyConnectedAttributes>() is { Alpha: 1, Beta: 1 } && HasConstantWeights(graph, node),
        _ => false,
    };

    /// <summary>A conv with one filter per input channel (group = channels = filters): channel c of its output is made of channel c of its input only.</summary>
    public static bool IsDepthwise(GraphEditor graph, Node node)
    {
        if (node.OpType != "Conv" || node.AttributesAs<ConvAttributes>() is not { Xnor: false } attributes || !HasConstantWeights(graph, node))
        {
            return false;
        }

        var weights = graph.Graph.Initializers[node.Inputs[1]].Shape;
        var input = graph.Shapes[node.Inputs[0]];
        return attributes.Group > 1 && input.Rank == 4 && attributes.Group == input.C && weights[0] == input.C && weights[1] == 1;
    }

    /// <summary>
    /// For a node through which channels pass one to one, the output channel each input channel
    /// becomes: <c>(output channel) = offset + (input channel)</c>, for input slot <paramref name="slot"/>.
    /// Null when the node does not pass channels through unchanged.
    /// </summary>
    public static long? PassThroughOffset(GraphEditor graph, Node node, int slot)
    {
        var shapes = graph.Shapes;
        if (node.Outputs.Count != 1 || !shapes.TryGetValue(node.Outputs[0], out var output) || output.Rank < 2)
        {
            return null;
        }

        switch (node.OpType)
        {
            case "Activation" when slot == 0 && node.AttributesAs<ActivationAttributes>().Function != "prelu":
            case "MaxPool" when slot == 0:
            case "Identity" when slot == 0 && node.AttributesAs<IdentityAttributes>().CastTo is null:
                return 0;
            case "Resize" when slot == 0 && node.AttributesAs<ResizeAttributes>() is { Scales: { Length: >= 2 } scales, Mode: "nearest" } && scales[1] == 1 && scales[0] == 1:
                return 0;
            case "Conv" when slot == 0 && IsDepthwise(graph, node):
                return 0;
            case "Arithmetic" when node.AttributesAs<ArithmeticAttributes>().Operation is not ArithmeticOperation.Div
                && node.Inputs.Count == 2 && node.Inputs.All(i => shapes.TryGetValue(i, out var s) && s.Equals(output)) && !node.Inputs.Any(graph.Graph.Initializers.ContainsKey):
                return 0;
            case "Concat":
            {
                var (axis, groups, _) = node.AttributesAs<ConcatAttributes>();
                if (groups != 1 || (axis < 0 ? axis + output.Rank : axis) != 1 || node.Inputs.Any(graph.Graph.Initializers.ContainsKey))
                {
                    return null;
                }

                long offset = 0;
                for (var i = 0; i < slot; i++)
                {
                    offset += shapes[node.Inputs[i]][1];
                }

                return offset;
            }

            default:
                return null;
        }
    }

    /// <summary>
    /// The constant value of every channel that is provably constant, per value (NaN: not constant).
    /// Sources: a producer's filter row that is all zero (the channel is its bias, 0 without one).
    /// Carried: through every pass-through node, computed as the node computes it (an activation of
    /// the constant, the sum of two constants); a depthwise conv of a zero channel is its bias (the
    /// padding it adds is zero too), of a nonzero constant only when it pads nothing.
    /// </summary>
    public static Dictionary<string, float[]> ConstantChannels(GraphEditor graph) =>
        Propagate(graph, new Dictionary<string, float[]>(StringComparer.Ordinal), fromZeroRows: true);

    /// <summary>
    /// Channels forced to 0 (<paramref name="seeds"/>: per value, 0 for a forced channel, NaN for
    /// the others) and what they become downstream, carried as <see cref="ConstantChannels"/> carries
    /// constants; no other source of constants. What lossy pruning (<see cref="PruneChannels"/>) removes.
    /// </summary>
    public static Dictionary<string, float[]> ForcedChannels(GraphEditor graph, Dictionary<string, float[]> seeds) =>
        Propagate(graph, new Dictionary<string, float[]>(seeds, StringComparer.Ordinal), fromZeroRows: false);

    private static Dictionary<string, float[]> Propagate(GraphEditor graph, Dictionary<string, float[]> constants, bool fromZeroRows)
    {
        var initializers = graph.Graph.Initializers;
        using var files = new OpenFiles();
        foreach (var node in graph.Graph.Nodes)
        {
            if (node.Outputs.Count == 0 || constants.ContainsKey(node.Outputs[0]) || !graph.Shapes.TryGetValue(node.Outputs[0], out var output) || output.Rank < 2)
            {
                continue;
            }

            float[]? values = null;
            if (IsProducer(graph, node))
            {
                values = fromZeroRows ? ZeroRowConstants(node, initializers, files) : null;
            }
            else if (IsDepthwise(graph, node))
            {
                values = DepthwiseConstants(node, initializers, constants.GetValueOrDefault(node.Inputs[0]), files);
            }
            else if (PassThroughOffset(graph, node, 0) is not null)
            {
                values = Carried(node, output[1], graph.Shapes, constants);
            }

            if (values is not null && values.Any(v => !float.IsNaN(v)))
            {
                constants[node.Outputs[0]] = values;
            }
        }

        return constants;
    }

    private static float[]? Carried(Node node, long channels, IReadOnlyDictionary<string, Shape> shapes, Dictionary<string, float[]> constants)
    {
        switch (node.OpType)
        {
            case "Concat":
            {
                var result = new float[channels];
                Array.Fill(result, float.NaN);
                long offset = 0;
                foreach (var input in node.Inputs)
                {
                    constants.GetValueOrDefault(input)?.CopyTo(result, offset);
                    offset += shapes[input][1];
                }

                return result;
            }

            case "Arithmetic":
            {
                if (constants.GetValueOrDefault(node.Inputs[0]) is not { } a || constants.GetValueOrDefault(node.Inputs[1]) is not { } b)
                {
                    return null;
                }

                var operation = node.AttributesAs<ArithmeticAttributes>().Operation;
                var result = new float[channels];
                for (var c = 0; c < channels; c++)
                {
                    result[c] = operation switch
                    {
                        ArithmeticOperation.Add => a[c] + b[c],
                        ArithmeticOperation.Sub => a[c] - b[c],
                        ArithmeticOperation.Mul => a[c] * b[c],
                        _ => MathF.Max(a[c], b[c]),
                    };
                }

                return result;
            }

            case "Activation":
            {
                if (constants.GetValueOrDefault(node.Inputs[0]) is not { } x)
                {
                    return null;
                }

                var apply = ActivationFunctions.Create(node.AttributesAs<ActivationAttributes>(), what => new NotSupportedException(what));
                var result = new float[x.Length];
                apply(x, result);
                for (var c = 0; c < x.Length; c++)
                {
                    result[c] = float.IsNaN(x[c]) ? float.NaN : result[c];
                }

                return result;
            }

            default:
                return constants.GetValueOrDefault(node.Inputs[0]);
        }
    }

    /// <summary>Rows of a producer's weights that are all zero: the channel is the bias (0 without one).</summary>
    private static float[] ZeroRowConstants(Node node, Dictionary<string, Initializer> initializers, OpenFiles files)
    {
        var weights = initializers[node.Inputs[1]];
        var bias = Bias(node, initializers);
        var transposed = node.OpType == "FullyConnected" && node.AttributesAs<FullyConnectedAttributes>().Transposed;
        var outputs = transposed ? weights.Shape[1] : weights.Shape[0];
        var row = weights.Shape.ElementCount / outputs;
        var result = new float[outputs];
        if (transposed)
        {
            // (I, J): channel j is column j; read row by row and clear the columns that are not zero.
            var zero = Enumerable.Repeat(true, (int)outputs).ToArray();
            var buffer = new float[outputs];
            for (long i = 0; i < row; i++)
            {
                weights.Data!.CopyTo(i * outputs, buffer, files);
                for (var j = 0; j < outputs; j++)
                {
                    zero[j] &= buffer[j] == 0;
                }
            }

            for (var j = 0; j < outputs; j++)
            {
                result[j] = zero[j] ? bias?[j] ?? 0 : float.NaN;
            }

            return result;
        }

        var rowBuffer = new float[row];
        for (var c = 0; c < outputs; c++)
        {
            weights.Data!.CopyTo(c * row, rowBuffer, files);
            result[c] = rowBuffer.AsSpan().ContainsAnyExcept(0f) ? float.NaN : bias?[c] ?? 0;
        }

        return result;
    }

    private static float[] DepthwiseConstants(Node node, Dictionary<string, Initializer> initializers, float[]? input, OpenFiles files)
    {
        var weights = initializers[node.Inputs[1]];
        var bias = Bias(node, initializers);
        var channels = weights.Shape[0];
        var result = new float[channels];
        Array.Fill(result, float.NaN);
        if (input is null)
        {
            return result;
        }

        var padded = node.AttributesAs<ConvAttributes>().Window.HasPadding;
        var row = new float[weights.Shape.ElementCount / channels];
        for (var c = 0; c < channels; c++)
        {
            if (float.IsNaN(input[c]) || (input[c] != 0 && padded))
            {
                continue;
            }

            weights.Data!.CopyTo(c * row.Length, row, files);
            double sum = 0;
            foreach (var w in row)
            {
                sum += w;
            }

            result[c] = (float)((input[c] * sum) + (bias?[c] ?? 0));
        }

        return result;
    }

    private static float[]? Bias(Node node, Dictionary<string, Initializer> initializers) =>
        node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? initializers[node.Inputs[2]].Data!.ToArray() : null;

    private static bool HasConstantWeights(GraphEditor graph, Node node)
    {
        var initializers = graph.Graph.Initializers;
        return node.Inputs.Count >= 2
            && initializers.TryGetValue(node.Inputs[1], out var w) && w.Data is not null
            && (node.Inputs.Count < 3 || node.Inputs[2].Length == 0 || (initializers.TryGetValue(node.Inputs[2], out var b) && b.Data is not null))
            && graph.ReadingNodeCount(node.Inputs[1]) == 1
            && (node.Inputs.Count < 3 || node.Inputs[2].Length == 0 || graph.ReadingNodeCount(node.Inputs[2]) == 1);
    }
}
