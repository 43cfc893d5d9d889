using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// The backward fold shared by <see cref="FoldBatchNorm"/> and <see cref="FoldScale"/>: a
/// per-channel affine node that directly follows a Conv, ConvTranspose or FullyConnected is merged
/// into it: <c>W'[c,…] = A_c * W[c,…]</c>, <c>b'_c = A_c * b_c + Shift_c</c> (b = 0 without bias).
/// A FullyConnected with <c>transpose = 1</c> (Caffe) stores (I, J): column j is scaled by A_j.
/// </summary>
internal static class AffineIntoProducer
{
    private static readonly HashSet<string> s_foldable = new(StringComparer.Ordinal) { "Conv", "ConvTranspose", "FullyConnected" };

    /// <summary>Cheap structural checks on the producer of the affine node's input 0. Returns the producer, or null with the reason it cannot fold.</summary>
    public static Node? FindProducer(GraphEditor graph, Node affine, out string reason) =>
        FindProducer(graph, affine, 0, out reason);

    /// <summary>As above, for the producer of input <paramref name="input"/> (the side of an ONNX Mul/Add that is not the constant).</summary>
    public static Node? FindProducer(GraphEditor graph, Node affine, int input, out string reason)
    {
        if (graph.Producer(affine.Inputs[input]) is not { } producer)
        {
            reason = "its input is the graph input, not a conv/deconv/FC output";
            return null;
        }

        if (!s_foldable.Contains(producer.OpType))
        {
            reason = $"its input comes from {producer.OpType} '{producer.Name}' (layer {producer.Origin.Index}), not from a conv, deconv or FC; nothing linear to fold into";
            return null;
        }

        if (graph.Graph.Outputs.Contains(producer.Outputs[0]))
        {
            reason = $"the output of '{producer.Name}' is a model output: the model delivers it as it is before this layer, so folding would change what it delivers";
            return null;
        }

        var consumers = graph.ConsumerCount(producer.Outputs[0]);
        if (consumers != 1)
        {
            reason = $"the output of '{producer.Name}' is read by {consumers} consumers; folding would change what the others see";
            return null;
        }

        var initializers = graph.Graph.Initializers;
        if (!initializers.TryGetValue(producer.Inputs[1], out var weights) || weights.Data is null)
        {
            reason = $"the weights of '{producer.Name}' are not constant or not loaded";
            return null;
        }

        var weightUsers = graph.ReadingNodeCount(producer.Inputs[1]);
        if (weightUsers != 1)
        {
            reason = $"the weights of '{producer.Name}' are shared with {weightUsers - 1} other layer(s) (share_index)";
            return null;
        }

        if (producer.Inputs.Count > 2 && producer.Inputs[2].Length > 0)
        {
            if (!initializers.TryGetValue(producer.Inputs[2], out var bias) || bias.Data is null)
            {
                reason = $"the bias of '{producer.Name}' is not constant";
                return null;
            }

            var channels = OutputChannels(producer, weights.Shape);
            if (producer.OpType != "FullyConnected" && bias.Shape.ElementCount != channels)
            {
                // A Gemm's C is checked with its alpha and beta in IsPlainFullyConnected.
                reason = $"the bias of '{producer.Name}' has shape {bias.Shape}, not one value for each of its {channels} output channels";
                return null;
            }
        }

        if (producer.OpType == "FullyConnected" && !IsPlainFullyConnected(graph.Graph, producer, weights, out reason))
        {
            return null;
        }

        if ((graph.CannotExpress(producer, NodeEdit.ParametersReplaced) ?? graph.CannotExpress(affine, NodeEdit.Removed)) is { } unwritable)
        {
            reason = unwritable;
            return null;
        }

        reason = string.Empty;
        return producer;
    }

    /// <summary>
    /// The fold assumes <c>y = W x + b</c> with one bias per output. An ONNX Gemm may scale the product
    /// or the bias (alpha, beta) and broadcast a scalar, per-item or per-element C: then it does not hold.
    /// </summary>
    private static bool IsPlainFullyConnected(Graph graph, Node producer, Initializer weights, out string reason)
    {
        var attributes = producer.AttributesAs<FullyConnectedAttributes>();
        if (attributes.Alpha != 1 || attributes.Beta != 1)
        {
            reason = $"'{producer.Name}' scales its product or its bias (Gemm alpha/beta); the fold assumes y = W x + b";
            return false;
        }

        if (producer.Inputs.Count > 2 && producer.Inputs[2].Length > 0)
        {
            var outputs = weights.Shape[attributes.Transposed ? 1 : 0];
            var bias = graph.Initializers[producer.Inputs[2]].Shape;
            var perOutput = (bias.Rank == 1 && bias[0] == outputs) || (bias.Rank == 2 && bias[0] == 1 && bias[1] == outputs);
            if (!perOutput)
            {
                reason = $"the bias of '{producer.Name}' is {bias}, not one value per output (a broadcast Gemm C)";
                return false;
            }
        }

        reason = string.Empty;
        return true;
    }

    /// <summary>Rewrites <paramref name="producer"/> to absorb <paramref name="affine"/> and removes the affine node.</summary>
    public static FoldRecord Fold(GraphEditor editor, Node producer, Node affineNode, AffineCoefficients affine, string pass)
    {
        var graph = editor.Graph;
        var producerInputShape = editor.Shapes[producer.Inputs[0]];
        var snapshotNodes = new[] { GraphEditor.CloneNode(producer), GraphEditor.CloneNode(affineNode) };
        var snapshotInits = InitializersReadBy(graph, snapshotNodes);

        var weights = graph.Initializers[producer.Inputs[1]];
        var a = affine.A;
        var w = weights.Shape;
        var scaled = producer.OpType switch
        {
            // Caffe InnerProduct with transpose: weights (I, J), output channel j is column j.
            "FullyConnected" when producer.AttributesAs<FullyConnectedAttributes>().Transposed => new BlockScaledData(weights.Data!, 1, b => a[b % w[1]]),

            // (Cout, Cin/g, kh, kw) and (J, I): one contiguous block per output channel.
            "Conv" or "FullyConnected" => new BlockScaledData(weights.Data!, w.ElementCount / w[0], b => a[b]),

            // (Cin, Cout/g, kh, kw): block (i, j) belongs to output channel group(i) * Cout/g + j.
            _ => DeconvScaled(weights, producer.AttributesAs<ConvAttributes>().Group, a),
        };
        var newWeights = new Initializer(editor.UniqueValueName(producer.Name + "/folded_weights"), w, scaled);

        var oldBias = producer.Inputs.Count > 2 && producer.Inputs[2].Length > 0 ? graph.Initializers[producer.Inputs[2]].Data!.ToArray() : null;
        var bias = new float[a.Length];
        for (var c = 0; c < bias.Length; c++)
        {
            bias[c] = (float)((a[c] * (oldBias?[c] ?? 0.0)) + affine.Shift[c]);
        }

        var newBias = new Initializer(editor.UniqueValueName(producer.Name + "/folded_bias"), new Shape(a.Length), new ArrayData(bias));
        editor.AddInitializer(newWeights);
        editor.AddInitializer(newBias);
        editor.SetInput(producer, 1, newWeights.Name);
        editor.SetInput(producer, 2, newBias.Name);
        editor.ReplaceUses(affineNode.Outputs[0], producer.Outputs[0]);
        editor.Remove(affineNode);

        return new FoldRecord(pass, affineNode.Origin, producer.Inputs[0], producerInputShape, snapshotNodes, snapshotInits,
            [GraphEditor.CloneNode(producer)],
            new Dictionary<string, Initializer>(StringComparer.Ordinal) { [newWeights.Name] = newWeights, [newBias.Name] = newBias });
    }

    /// <summary>The initializers <paramref name="nodes"/> read, in the order they first read them (the snapshot of a fold).</summary>
    internal static Dictionary<string, Initializer> InitializersReadBy(Graph graph, IEnumerable<Node> nodes)
    {
        var read = new Dictionary<string, Initializer>(StringComparer.Ordinal);
        foreach (var input in nodes.SelectMany(n => n.Inputs))
        {
            if (graph.Initializers.TryGetValue(input, out var initializer))
            {
                read.TryAdd(input, initializer);
            }
        }

        return read;
    }

    private static BlockScaledData DeconvScaled(Initializer weights, long groups, double[] a)
    {
        var w = weights.Shape;
        var inPerGroup = w[0] / groups;
        var outPerGroup = w[1];
        return new BlockScaledData(weights.Data!, w[2] * w[3], block =>
        {
            var i = block / outPerGroup;
            var j = block % outPerGroup;
            return a[((i / inPerGroup) * outPerGroup) + j];
        });
    }

    /// <summary>Output channels of a foldable producer from its weights' shape.</summary>
    public static long OutputChannels(Node producer, Shape weights) => producer.OpType switch
    {
        "ConvTranspose" => weights[1] * producer.AttributesAs<ConvAttributes>().Group,
        "FullyConnected" when producer.AttributesAs<FullyConnectedAttributes>().Transposed => weights[1],
        _ => weights[0],
    };
}
