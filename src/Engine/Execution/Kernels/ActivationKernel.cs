using System.Numerics;
using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Element-wise activation with darknet's formulas (activations.h of pjreddie and AlexeyAB; where
/// both define a function they agree). Transcendentals are evaluated in double, as pjreddie's
/// <c>exp</c>-based forms are; the float results match AlexeyAB's <c>expf</c> forms to an ulp.
/// Non-darknet functions follow ONNX (HardSigmoid, HardSwish, Softplus, PRelu).
/// </summary>
internal sealed class ActivationKernel : Kernel
{
    /// <summary>Darknet's softplus threshold inside mish (MISH_THRESHOLD).</summary>
    private const double MishThreshold = 20;

    public override string OpType => "Activation";

    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var function = context.Attributes.String("function");
        var alpha = (float)context.Attributes.Float("alpha", 0);
        var x = context.Input(0).Data;
        var y = context.Output.Data;
        if (function == "prelu")
        {
            RunPrelu(context, alpha);
            return;
        }

        Action<ReadOnlySpan<float>, Span<float>> apply = function switch
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
            "hardsigmoid" => HardSigmoid(context),
            "hardswish" => static (a, b) => Map(a, b, static v => v * Math.Clamp((v / 6f) + 0.5f, 0f, 1f)),
            "softplus" => static (a, b) => Map(a, b, static v => (float)(Math.Max(v, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs((double)v))))),
            _ => throw context.Unsupported($"activation '{function}'"),
        };

        ParallelWork.For(context, x.Length, 1 << 16, (start, end) =>
            apply(x.AsSpan((int)start, (int)(end - start)), y.AsSpan((int)start, (int)(end - start))));
    }

    private static Action<ReadOnlySpan<float>, Span<float>> HardSigmoid(KernelContext context)
    {
        var slope = (float)context.Attributes.Float("alpha", 0.2);
        var offset = (float)context.Attributes.Float("beta", 0.5);
        return (a, b) =>
        {
            for (var i = 0; i < a.Length; i++)
            {
                b[i] = Math.Clamp((slope * a[i]) + offset, 0f, 1f);
            }
        };
    }

    /// <summary>PRelu: one slope per channel from input 1, or the <c>alpha</c> attribute for all.</summary>
    private static void RunPrelu(KernelContext context, float alpha)
    {
        var x = context.Input(0);
        var y = context.Output.Data;
        var slopes = context.OptionalInput(1)?.Data;
        var layout = TensorLayout.Of(x.Shape);
        if (slopes is not null && slopes.Length != 1 && slopes.Length != layout.Channels)
        {
            throw context.Unsupported($"a PRelu slope of {slopes.Length} values for {layout.Channels} channels");
        }

        for (var plane = 0; plane < layout.Planes; plane++)
        {
            var slope = slopes is null ? alpha : slopes[slopes.Length == 1 ? 0 : plane % layout.Channels];
            Leaky(x.Data.AsSpan(plane * layout.Plane, layout.Plane), y.AsSpan(plane * layout.Plane, layout.Plane), slope);
        }
    }

    /// <summary><c>x &gt; 0 ? x : slope*x</c> (darknet leaky with slope 0.1, relu with 0), vectorised.</summary>
    private static void Leaky(ReadOnlySpan<float> x, Span<float> y, float slope)
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
