using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Folds a constant per-channel multiplication or addition (ONNX <c>Mul</c>, <c>Add</c>, and
/// <c>Sub</c> / <c>Div</c> by a constant) that directly follows a conv, grouped conv, deconv or fully
/// connected layer into that layer's weights and bias.
/// <para>Before: <c>X → Conv(W, b?) → Mul(·, s) → Add(·, t) → Y</c> (either node alone or both, the
/// constant on either side).</para>
/// <para>After: <c>X → Conv(W', b') → Y</c></para>
/// <para>Preconditions: the layer's output has exactly one reader (this node) and is not a model
/// output; its weights are constant, loaded and not shared; the other operand is an initializer (a
/// real constant, not a computed value) of a floating type whose shape broadcasts onto the layer's
/// output without changing it and varies along the channel axis (1) only: a scalar, <c>[C,1,1]</c>,
/// <c>[1,C,1,1]</c>, <c>[1]</c>, <c>[C]</c> after an FC. A computed operand of such a shape (a
/// squeeze-and-excitation gate) is reported as not applied; a computed operand of another shape (a
/// residual Add) is not this pattern and is passed over silently. <c>c / x</c> is not affine and
/// does not fold; <c>x / 0</c> does not either.</para>
/// <para>Formula, per output channel c, with <c>k_c</c> the constant's value for the channel:
/// <c>x*k</c>: <c>A_c = k_c, S_c = 0</c>; <c>x+k</c>: <c>A_c = 1, S_c = k_c</c>; <c>x-k</c>:
/// <c>A_c = 1, S_c = -k_c</c>; <c>k-x</c>: <c>A_c = -1, S_c = k_c</c>; <c>x/k</c>: <c>A_c = 1/k_c,
/// S_c = 0</c>. Then, as for BatchNorm (docs/folding.md), <c>W'[c,…] = A_c W[c,…]</c> (deconv: axis 1, per
/// group; Gemm with transB = 0: column c) and <c>b'_c = A_c b_c + S_c</c>, in double, stored as float32.
/// Runs after FoldBatchNorm, so <c>Conv → BN → Mul → Add</c> folds completely; <c>Conv → Mul → BN</c>
/// folds in the pass manager's second round.</para>
/// </summary>
public sealed class FoldChannelMulAdd : GraphPass
{
    public override string Name => "FoldChannelMulAdd";

    public override void Run(GraphEditor graph, PassReport report)
    {
        var initializers = graph.Graph.Initializers;
        foreach (var node in graph.Graph.Nodes.Where(n => n.OpType == "Arithmetic").ToList())
        {
            var operation = node.AttributesAs<ArithmeticAttributes>().Operation;

            // The side that comes from a conv / deconv / FC is x; the other is the constant k.
            var xSide = IsLinearLayer(graph.Producer(node.Inputs[0])) ? 0 : IsLinearLayer(graph.Producer(node.Inputs[1])) ? 1 : -1;
            if (xSide < 0)
            {
                continue;
            }

            var producer = graph.Producer(node.Inputs[xSide])!;
            var k = node.Inputs[1 - xSide];
            var shapes = graph.Shapes;
            var output = shapes[producer.Outputs[0]];
            if (!PerChannel(output, shapes[k], out var why))
            {
                if (initializers.ContainsKey(k))
                {
                    NotApplied(report, node, $"the constant '{k}' has shape {shapes[k]}, which {why}; only one value per channel (or one for all) folds");
                }

                continue; // A computed operand of another shape (a residual Add) is not this pattern.
            }

            if (!initializers.TryGetValue(k, out var constant) || constant.Data is null)
            {
                NotApplied(report, node, $"its other operand '{k}' is computed by the graph, not a constant; only a constant scale or shift folds into the weights");
                continue;
            }

            if (constant.DataType is not (DataType.Float32 or DataType.Float16))
            {
                NotApplied(report, node, $"the constant '{k}' is {constant.DataType}, not a floating-point tensor");
                continue;
            }

            if (operation == ArithmeticOperation.Div && xSide == 1)
            {
                NotApplied(report, node, $"it divides the constant '{k}' by the output of '{producer.Name}', which is not an affine map");
                continue;
            }

            if (AffineIntoProducer.FindProducer(graph, node, xSide, out var reason) is null)
            {
                NotApplied(report, node, reason);
                continue;
            }

            var channels = output[1];
            var values = constant.Data.ToArray();
            if (operation == ArithmeticOperation.Div && Array.IndexOf(values, 0f) >= 0)
            {
                NotApplied(report, node, $"the divisor '{k}' has a zero");
                continue;
            }

            if (Array.FindIndex(values, v => !float.IsFinite(v)) is var bad && bad >= 0)
            {
                NotApplied(report, node, $"the constant '{k}' holds {values[bad]} at index {bad}");
                continue;
            }

            var a = new double[channels];
            var shift = new double[channels];
            for (var c = 0; c < channels; c++)
            {
                double value = values.Length == 1 ? values[0] : values[c];
                (a[c], shift[c]) = operation switch
                {
                    ArithmeticOperation.Mul => (value, 0.0),
                    ArithmeticOperation.Add => (1.0, value),
                    ArithmeticOperation.Sub when xSide == 0 => (1.0, -value),
                    ArithmeticOperation.Sub => (-1.0, value),
                    _ => (1.0 / value, 0.0),
                };
            }

            var affine = new AffineCoefficients(a, shift);
            report.Folds.Add(AffineIntoProducer.Fold(graph, producer, node, affine, Name));
            Applied(report, node, $"{operation.ToString().ToLowerInvariant()} by '{k}' folded into {producer.OpType} '{producer.Name}' ({channels} channels)");
        }

        graph.RemoveUnusedInitializers();
    }

    private static bool IsLinearLayer(Node? node) => node?.OpType is "Conv" or "ConvTranspose" or "FullyConnected";

    /// <summary>
    /// True when <paramref name="constant"/> broadcasts onto <paramref name="output"/> without changing
    /// it and varies along axis 1 only (numpy rules: axes aligned from the end).
    /// </summary>
    internal static bool PerChannel(Shape output, Shape constant, out string why)
    {
        if (constant.Rank > output.Rank)
        {
            why = $"has more axes than the {output} it would be applied to";
            return false;
        }

        for (var j = 0; j < constant.Rank; j++)
        {
            var axis = j + output.Rank - constant.Rank;
            if (constant[j] != 1 && !(axis == 1 && constant[j] == output[1]))
            {
                why = $"varies along axis {axis} of {output}";
                return false;
            }
        }

        why = string.Empty;
        return true;
    }
}
