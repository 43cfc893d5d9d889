using System.Numerics;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// Element-wise activations with darknet's formulas (activations.h of pjreddie and AlexeyAB; where
/// both define a function they agree), shared by the Activation kernel and the convolution
/// epilogue so that fused and separate runs give the same bits. Transcendentals are evaluated in
/// double, as pjreddie's <c>exp</c>-based forms are; the float results match AlexeyAB's
/// <c>expf</c> forms to an ulp. Non-darknet functions follow ONNX (HardSigmoid, HardSwish, Softplus, Clip).
/// </summary>
internal static class ActivationFunctions
{
    /// <summary>Darknet's softplus threshold inside mish (MISH_THRESHOLD).</summary>
    private const double MishThreshold = 20;

    /// <summary>The activation's function (<c>alpha</c>: leaky's slope).</summary>
    public static Action<ReadOnlySpan<float>, Span<float>> Create(ActivationAttributes attributes, Func<string, Exception> unsupported)
    {
        var function = attributes.Function;
        var alpha = (float)attributes.Alpha;
        return function switch
        {
            "linear" => static (a, b) => a.CopyTo(b),
            "relu" => static (a, b) => Leaky(a, b, 0f),
            "leaky" => (a, b) => Leaky(a, b, alpha),
            "relu6" => static (a, b) => Map(a, b, static v => Math.Clamp(v, 0f, 6f)),
            "ramp" => static (a, b) => Map(a, b, static v => (v > 0 ? v : 0f) + (0.1f * v)),
            "relie" => static (a, b) => Map(a, b, static v => v > 0 ? v : 0.01f * v),
            "stair" => static (a, b) => Map(a, b, Stair),
            "hardtan" => static (a, b) => Map(a, b, static v => Math.Clamp(v, -1f, 1f)),
            "lhtan" => static (a, b) => Map(a, b, Lhtan),
            "plse" => static (a, b) => Map(a, b, Plse),
            "logistic" or "sigmoid" => static (a, b) => Map(a, b, static v => (float)Logistic(v)),
            "loggy" => static (a, b) => Map(a, b, static v => (float)((2.0 / (1.0 + Math.Exp(-v))) - 1.0)),
            "tanh" => static (a, b) => Map(a, b, static v => (float)Math.Tanh(v)),
            "elu" => static (a, b) => Map(a, b, static v => v >= 0 ? v : (float)(Math.Exp(v) - 1.0)),
            "selu" => static (a, b) => Map(a, b, static v => v >= 0 ? (float)(1.0507 * v) : (float)(1.0507 * 1.6732 * (Math.Exp(v) - 1.0))),
            "gelu" => static (a, b) => Map(a, b, static v => (float)(0.5 * v * (1.0 + Math.Tanh((0.797885 * v) + (0.035677 * v * v * v))))),
            "swish" or "silu" => static (a, b) => Map(a, b, static v => (float)(v * Logistic(v))),
            "mish" => static (a, b) => Map(a, b, static v => (float)(v * Math.Tanh(DarknetSoftplus(v)))),
            "hard_mish" => static (a, b) => Map(a, b, static v => v > 0 ? v : v > -2 ? (v * v / 2) + v : 0f),
            "hardsigmoid" => HardSigmoid(attributes),
            "clip" => Clip(attributes),
            "hardswish" => static (a, b) => Map(a, b, static v => v * Math.Clamp((v / 6f) + 0.5f, 0f, 1f)),
            "softplus" => static (a, b) => Map(a, b, static v => (float)(Math.Max(v, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs((double)v))))),
            _ => throw unsupported($"activation '{function}'"),
        };
    }

    private static Action<ReadOnlySpan<float>, Span<float>> HardSigmoid(ActivationAttributes attributes)
    {
        var slope = (float)attributes.Alpha;
        var offset = (float)attributes.Beta;
        return (a, b) =>
        {
            for (var i = 0; i < a.Length; i++)
            {
                b[i] = Math.Clamp((slope * a[i]) + offset, 0f, 1f);
            }
        };
    }

    /// <summary>
    /// ONNX Clip: <c>min(max(x, min), max)</c> in that order, so bounds with min &gt; max give max
    /// everywhere, as ONNX Runtime does; NaN stays NaN.
    /// </summary>
    private static Action<ReadOnlySpan<float>, Span<float>> Clip(ActivationAttributes attributes)
    {
        var low = (float)attributes.Min;
        var high = (float)attributes.Max;
        return (a, b) =>
        {
            for (var i = 0; i < a.Length; i++)
            {
                b[i] = Math.Min(Math.Max(a[i], low), high);
            }
        };
    }

    /// <summary><c>x &gt; 0 ? x : slope*x</c> (darknet leaky with slope 0.1, relu with 0), vectorised.</summary>
    public static void Leaky(ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(slope);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(x[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * s).CopyTo(y[i..]);
            }
        }

        for (; i < x.Length; i++)
        {
            y[i] = x[i] > 0 ? x[i] : slope * x[i];
        }
    }

    private static void Map(ReadOnlySpan<float> x, Span<float> y, Func<float, float> f)
    {
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = f(x[i]);
        }
    }

    private static double Logistic(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>Darknet's softplus_activate with its threshold: linear above, exp below, log(exp(x)+1) between.</summary>
    private static double DarknetSoftplus(double x) =>
        x > MishThreshold ? x : x < -MishThreshold ? Math.Exp(x) : Math.Log(Math.Exp(x) + 1.0);

    /// <summary>darknet stair_activate: a staircase on even floors, a ramp on odd ones.</summary>
    private static float Stair(float x)
    {
        var n = (int)MathF.Floor(x);
        return n % 2 == 0 ? MathF.Floor(x / 2f) : (x - n) + MathF.Floor(x / 2f);
    }

    private static float Lhtan(float x) => x < 0 ? 0.001f * x : x > 1 ? (0.001f * (x - 1)) + 1 : x;

    private static float Plse(float x) => x < -4 ? 0.01f * (x + 4) : x > 4 ? (0.01f * (x - 4)) + 1 : (0.125f * x) + 0.5f;
}
