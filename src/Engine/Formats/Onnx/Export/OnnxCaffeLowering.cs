using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using static NeuralBuild.Engine.Formats.Onnx.Export.OnnxExportGraph;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// Lowerings of the operators Caffe (and SSD) bring: Power, LRN in its
/// three arithmetics (Caffe across and within channels, darknet's [normalization]), Normalize and
/// PriorBox, which depends only on shapes and becomes a constant.
/// </summary>
internal static class OnnxCaffeLowering
{
    /// <summary>Power → (shift + scale * x) ^ power: Mul, Add, Pow, each left out where it changes nothing (scale 1, shift 0, power 1).</summary>
    public static void Power(OnnxLoweringContext c)
    {
        var (power, scale, shift) = c.Node.AttributesAs<PowerAttributes>();
        var steps = new List<Func<string, string?, string>>();
        if (scale != 1)
        {
            steps.Add((v, into) => c.Binary("Mul", v, c.Scalar("scale", (float)scale), into));
        }

        if (shift != 0)
        {
            steps.Add((v, into) => c.Binary("Add", v, c.Scalar("shift", (float)shift), into));
        }

        if (power != 1)
        {
            steps.Add((v, into) => c.Binary("Pow", v, c.Scalar("power", (float)power), into));
        }

        if (steps.Count == 0)
        {
            c.Unary("Identity", c.Input(0), c.Output());
            return;
        }

        var value = c.Input(0);
        for (var i = 0; i < steps.Count; i++)
        {
            value = steps[i](value, i == steps.Count - 1 ? c.Output() : null);
        }
    }

    /// <summary>
    /// LRN → Caffe across channels: ONNX LRN (the same window and alpha/size). Caffe within a
    /// channel: x * (1 + alpha/size² * Σ x² over the size x size window)^-beta, the sum as a zero Pad and
    /// AveragePool of x². Darknet's [normalization]: its running window never holds channel size/2
    /// (and subtracts it once the window has passed it), written as a 1x1 Conv of x² with that
    /// coefficient matrix times alpha plus kappa, then x * norm^-beta.
    /// </summary>
    public static void Lrn(OnnxLoweringContext c)
    {
        var a = c.Node.AttributesAs<LrnAttributes>();
        var x = c.InputShape(0);
        switch (a.CaffeWithinChannel)
        {
            case false:
                c.Emit("LRN", [c.Input(0)], [Int("size", a.Size), Float("alpha", a.Alpha), Float("beta", a.Beta), Float("bias", a.Kappa)], c.Output());
                return;
            case true:
            {
                var prePad = (a.Size - 1) / 2;
                var squared = c.Binary("Mul", c.Input(0), c.Input(0));
                var padded = c.Pad(squared, [0, 0, prePad, prePad, 0, 0, a.Size - 1 - prePad, a.Size - 1 - prePad], 0f);
                var mean = c.Emit("AveragePool", [padded], [Ints("kernel_shape", [a.Size, a.Size])]);
                var scale = c.Binary("Add", c.Binary("Mul", mean, c.Scalar("alpha", (float)a.Alpha)), c.Scalar("one", 1f));
                c.Binary("Mul", c.Input(0), c.Binary("Pow", scale, c.Scalar("minus_beta", (float)-a.Beta)), c.Output());
                return;
            }

            default:
            {
                var channels = (int)x.C;
                var coefficients = DarknetWindow(channels, (int)a.Size);
                var weights = coefficients.Select(v => (float)(v * a.Alpha)).ToArray();
                var squared = c.Binary("Mul", c.Input(0), c.Input(0));
                var norm = c.Emit("Conv", [squared, c.Floats("window", weights, channels, channels, 1, 1), c.Floats("kappa", [.. Enumerable.Repeat((float)a.Kappa, channels)], channels)],
                    [Ints("kernel_shape", [1, 1])]);
                c.Binary("Mul", c.Binary("Pow", norm, c.Scalar("minus_beta", (float)-a.Beta)), c.Input(0), c.Output());
                return;
            }
        }
    }

    /// <summary>
    /// The channels darknet's running sum holds for each output channel (row k, column m: +1, 0 or
    /// -1), replayed step by step as forward_normalization_layer updates it.
    /// </summary>
    private static int[] DarknetWindow(int channels, int size)
    {
        var matrix = new int[channels * channels];
        var current = new int[channels];
        for (var m = 0; m < size / 2 && m < channels; m++)
        {
            current[m]++;
        }

        for (var k = 0; k < channels; k++)
        {
            if (k > 0)
            {
                var previous = k - ((size - 1) / 2) - 1;
                var next = k + (size / 2);
                if (previous >= 0)
                {
                    current[previous]--;
                }

                if (next < channels)
                {
                    current[next]++;
                }
            }

            current.CopyTo(matrix, k * channels);
        }

        return matrix;
    }

    /// <summary>
    /// Normalize → x / sqrt(Σ x² + eps) * scale: ReduceSumSquare over (C, H, W) when across_spatial,
    /// else over C; the scale one value or (C, 1, 1).
    /// </summary>
    public static void Normalize(OnnxLoweringContext c)
    {
        var (acrossSpatial, shared, epsilon) = c.Node.AttributesAs<NormalizeAttributes>();
        var x = c.InputShape(0);
        long[] axes = acrossSpatial ? [.. Enumerable.Range(1, x.Rank - 1).Select(a => (long)a)] : [1];
        var sum = c.Reduce("ReduceSumSquare", c.Input(0), axes, keepDims: true);
        var norm = c.Unary("Sqrt", c.Binary("Add", sum, c.Scalar("epsilon", (float)epsilon)));
        var scale = shared ? c.WeightAs(1, [1]) : c.WeightAs(1, OnnxLoweringContext.ChannelDims(x[1], x.Rank));
        c.Binary("Mul", c.Binary("Div", c.Input(0), norm), scale, c.Output());
    }

    /// <summary>PriorBox → a constant: its boxes depend only on the shapes of its inputs, so its own kernel computes them once, through the reference executor.</summary>
    public static void PriorBox(OnnxLoweringContext c)
    {
        var node = c.Node;
        var graph = new Graph();
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var shape = c.InputShape(i);
            graph.Inputs[node.Inputs[i]] = shape;
            inputs[node.Inputs[i]] = new Tensor(shape);
        }

        graph.Nodes.Add(new Node(node.Name, node.OpType, node.Inputs, node.Outputs, node.Origin, node.Attributes.Clone()));
        graph.Outputs.Add(node.Outputs[0]);
        var boxes = new ReferenceExecutor(graph).Run(inputs, [node.Outputs[0]])[node.Outputs[0]];
        var constant = c.Floats("priors", boxes.Data, [.. boxes.Shape.Dims]);
        c.Unary("Identity", constant, c.Output());
    }
}
