using System.Numerics;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Inference BatchNorm arithmetic, shared by the BatchNormalization kernel and the convolution
/// epilogue so that fused and separate runs give the same bits.
/// </summary>
internal static class ChannelNormalization
{
    /// <summary>The gamma of a BatchNorm that has none.</summary>
    public static float[] Ones(int channels) => Enumerable.Repeat(1f, channels).ToArray();

    /// <summary><c>D = sqrt(var) + eps</c> or <c>sqrt(var + eps)</c>, evaluated in double as darknet's sqrt is.</summary>
    public static float[] Denominators(float[] variance, double epsilon, bool outside)
    {
        var denominators = new float[variance.Length];
        for (var c = 0; c < denominators.Length; c++)
        {
            denominators[c] = (float)(outside ? Math.Sqrt(variance[c]) + epsilon : Math.Sqrt(variance[c] + epsilon));
        }

        return denominators;
    }

    /// <summary><c>y = ((x - mean) / D) * gamma + beta</c>: darknet's normalize_cpu, scale_bias, add_bias.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, float mean, float denominator, float gamma, float beta)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var m = new Vector<float>(mean);
            var d = new Vector<float>(denominator);
            var g = new Vector<float>(gamma);
            var b = new Vector<float>(beta);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(x[i..]);
                (((v - m) / d * g) + b).CopyTo(y[i..]);
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = ((x[i] - mean) / denominator * gamma) + beta;
        }
    }
}
