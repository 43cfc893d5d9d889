using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// A per-channel affine map <c>y_c = A_c * x_c + Shift_c</c>, extracted in double precision from a
/// BatchNormalization or Scale node. BatchNorm: <c>A = gamma / D(var)</c>, <c>Shift = beta - A * mean</c>,
/// with D from the node's epsilon placement (docs/folding.md). An omitted gamma is 1 and an omitted
/// beta 0 (Caffe's BatchNorm carries neither; its Scale layer folds separately).
/// </summary>
internal sealed record AffineCoefficients(double[] A, double[] Shift)
{
    /// <summary>Variance below this many epsilons: the dialects' D disagree by more than ~5 %.</summary>
    private const double NearZeroVarianceEpsilons = 10;

    public int Channels => A.Length;

    public static AffineCoefficients FromBatchNorm(Graph graph, Node bn, PassReport report, string pass)
    {
        // Caffe's BatchNorm has no gamma or beta (inputs 1 and 2 are empty): they are 1 and 0.
        // The four vectors usually sit side by side in one weights file: opened once for all.
        // Kept as float32 (as stored) and widened per element: the arithmetic is in double either way.
        using var files = new OpenFiles();
        var mean = Values(graph, bn, 3, files);
        var variance = Values(graph, bn, 4, files);
        var gamma = bn.Inputs[1].Length > 0 ? Values(graph, bn, 1, files) : null;
        var beta = bn.Inputs.Count > 2 && bn.Inputs[2].Length > 0 ? Values(graph, bn, 2, files) : null;
        var (epsilon, outside, _) = bn.AttributesAs<BatchNormAttributes>();

        RequireFinite(bn, gamma ?? [], "scale (gamma)");
        RequireFinite(bn, beta ?? [], "bias (beta)");
        RequireFinite(bn, mean, "mean");
        RequireFinite(bn, variance, "variance");

        var channels = gamma?.Length ?? mean.Length;
        var a = new double[channels];
        var shift = new double[channels];
        List<int>? tiny = null;
        for (var c = 0; c < a.Length; c++)
        {
            double v = variance[c];
            if (v < 0)
            {
                throw DiagnosticCodes.NonFiniteStatistics.Exception(bn.Origin.Location,
                    $"layer {bn.Origin.Index} [{bn.Origin.Kind}]: channel {c} has negative variance {v.ToString("G6", CultureInfo.InvariantCulture)}; the statistics are corrupt.");
            }

            var d = outside ? Math.Sqrt(v) + epsilon : Math.Sqrt(v + epsilon);
            a[c] = (gamma is null ? 1.0 : gamma[c]) / d;
            shift[c] = (beta is null ? 0.0 : beta[c]) - (a[c] * mean[c]);
            if (v < NearZeroVarianceEpsilons * epsilon)
            {
                (tiny ??= []).Add(c);
            }
        }

        if (tiny is not null)
        {
            var list = string.Join(", ", tiny.Take(8).Select(c => $"{c} (var {((double)variance[c]).ToString("G3", CultureInfo.InvariantCulture)})"));
            report.Warnings.Add(DiagnosticCodes.NearZeroVariance.At(bn.Origin.Location,
                $"layer {bn.Origin.Index} [{bn.Origin.Kind}]: {tiny.Count} channel(s) with variance below {NearZeroVarianceEpsilons}x epsilon: {list}{(tiny.Count > 8 ? ", …" : string.Empty)}. " +
                $"Folded with this model's arithmetic ({(outside ? "sqrt(var) + eps" : "sqrt(var + eps)")}); frameworks that use the other one disagree there ({pass})."));
        }

        return new AffineCoefficients(a, shift);
    }

    /// <summary>The coefficients of a <see cref="Ops.ChannelAffine"/> node: an absent scale is 1, an absent bias 0.</summary>
    public static AffineCoefficients FromChannelAffine(Graph graph, Node affine)
    {
        using var files = new OpenFiles();
        var hasScale = affine.Inputs.Count > 1 && affine.Inputs[1].Length > 0;
        var hasBias = affine.Inputs.Count > 2 && affine.Inputs[2].Length > 0;
        var t = hasBias ? Values(graph, affine, 2, files) : null;
        var s = hasScale ? Values(graph, affine, 1, files) : Enumerable.Repeat(1f, t!.Length).ToArray();
        t ??= new float[s.Length];
        RequireFinite(affine, s, "scale");
        RequireFinite(affine, t, "bias");
        return new AffineCoefficients(Widen(s), Widen(t));
    }

    /// <summary>True when every parameter input of the node is an initializer with loaded data.</summary>
    public static bool HasConstantParameters(Graph graph, Node node) =>
        node.Inputs.Skip(1).All(i => i.Length == 0 || (graph.Initializers.TryGetValue(i, out var init) && init.Data is not null));

    private static float[] Values(Graph graph, Node node, int input, OpenFiles files)
    {
        var data = graph.Initializers[node.Inputs[input]].Data!;
        var floats = new float[checked((int)data.ElementCount)];
        data.CopyTo(0, floats, files);
        return floats;
    }

    private static double[] Widen(float[] values)
    {
        var wide = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            wide[i] = values[i];
        }

        return wide;
    }

    private static void RequireFinite(Node node, float[] values, string what)
    {
        var bad = 0;
        while (bad < values.Length && float.IsFinite(values[bad]))
        {
            bad++;
        }

        if (bad < values.Length)
        {
            throw DiagnosticCodes.NonFiniteStatistics.Exception(node.Origin.Location,
                $"layer {node.Origin.Index} [{node.Origin.Kind}]: {what} of channel {bad} is {((double)values[bad]).ToString(CultureInfo.InvariantCulture)}; the weights are corrupt (NaN/Inf), so the layer cannot be folded or run.");
        }
    }
}
