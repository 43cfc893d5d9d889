using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [shortcut]: <c>y = x + Σ from_i</c>. Equal shapes add element by element in both forks.
/// Where they differ the forks disagree, and attribute <c>size_mismatch</c> decides:
/// <list type="bullet">
/// <item>"strided" (pjreddie shortcut_cpu, the default): over the common channels and the smaller
/// grid, output pixel (i*sample, j*sample) gains from-pixel (i*stride, j*stride), where
/// stride = w_from / w_out and sample = w_out / w_from (each at least 1).</item>
/// <item>"flat" (AlexeyAB shortcut_multilayer_cpu): output element <c>i</c> of an item gains element
/// <c>i</c> of the from-layer's item while <c>i</c> is below that layer's size.</item>
/// </list>
/// Weights (AlexeyAB only, so always computed the "flat" way): per_feature holds one weight per
/// input (x first), per_channel one per input and channel; weights_normalization relu divides each
/// by <c>0.0001 + Σ relu(w)</c>, softmax uses <c>exp(w - max) / (0.0001 + Σ exp(w - max))</c>.
/// </summary>
internal sealed class ShortcutKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var attributes = context.AttributesAs<ShortcutAttributes>();
        var fromCount = checked((int)attributes.FromCount);
        var from = new Tensor[fromCount];
        for (var i = 0; i < fromCount; i++)
        {
            from[i] = context.Input(i + 1);
        }

        var weights = context.OptionalInput(fromCount + 1)?.Data;
        var flat = attributes.FlatSizeMismatch;
        if (weights is not null || (flat && from.Any(f => !f.Shape.Equals(x.Shape))))
        {
            MultiLayer(context, attributes.WeightsNormalization, x, from, weights, y);
            return;
        }

        if (!context.InPlace)
        {
            x.Data.AsSpan().CopyTo(y.Data);
        }

        foreach (var add in from)
        {
            if (add.Shape.Equals(y.Shape))
            {
                var src = add.Data;
                var dst = y.Data;
                ParallelWork.For(context, dst.Length, 1 << 16, (start, end) =>
                {
                    for (var i = (int)start; i < end; i++)
                    {
                        dst[i] += src[i];
                    }
                });
            }
            else
            {
                Strided(add, y);
            }
        }
    }

    /// <summary>pjreddie's shortcut_cpu with s1 = s2 = 1.</summary>
    private static void Strided(Tensor add, Tensor output)
    {
        int batch = ConvGeometry.Dim(output.Shape, 0);
        int c1 = ConvGeometry.Dim(add.Shape, 1), h1 = ConvGeometry.Dim(add.Shape, 2), w1 = ConvGeometry.Dim(add.Shape, 3);
        int c2 = ConvGeometry.Dim(output.Shape, 1), h2 = ConvGeometry.Dim(output.Shape, 2), w2 = ConvGeometry.Dim(output.Shape, 3);
        var stride = Math.Max(1, w1 / w2);
        var sample = Math.Max(1, w2 / w1);
        int minW = Math.Min(w1, w2), minH = Math.Min(h1, h2), minC = Math.Min(c1, c2);
        var src = add.Data;
        var dst = output.Data;
        for (var b = 0; b < batch; b++)
        {
            for (var k = 0; k < minC; k++)
            {
                for (var j = 0; j < minH; j++)
                {
                    for (var i = 0; i < minW; i++)
                    {
                        var outIndex = (i * sample) + (w2 * ((j * sample) + (h2 * (k + (c2 * b)))));
                        var addIndex = (i * stride) + (w1 * ((j * stride) + (h1 * (k + (c1 * b)))));
                        dst[outIndex] += src[addIndex];
                    }
                }
            }
        }
    }

    /// <summary>AlexeyAB's shortcut_multilayer_cpu.</summary>
    private static void MultiLayer(KernelContext context, string normalization, Tensor x, Tensor[] from, float[]? weights, Tensor output)
    {
        var outputs = checked((int)output.Shape.ElementsPerItem);
        var size = output.Data.Length;
        var layerStep = weights is null ? 0 : weights.Length / (from.Length + 1);
        var step = weights is null ? 1 : outputs / layerStep;
        var sizes = from.Select(f => checked((int)f.Shape.ElementsPerItem)).ToArray();
        var input = x.Data;
        var result = output.Data;
        ParallelWork.For(context, size, 1 << 14, (start, end) =>
        {
            for (var id = (int)start; id < end; id++)
            {
                var srcI = id % outputs;
                var srcB = id / outputs;
                float sum = 1, maxVal = float.MinValue;
                if (weights is not null && normalization != "none")
                {
                    if (normalization == "softmax")
                    {
                        for (var i = 0; i <= from.Length; i++)
                        {
                            var w = weights[(srcI / step) + (i * layerStep)];
                            maxVal = w > maxVal ? w : maxVal;
                        }
                    }

                    sum = 0.0001f;
                    for (var i = 0; i <= from.Length; i++)
                    {
                        var w = weights[(srcI / step) + (i * layerStep)];
                        sum += normalization == "relu" ? Math.Max(w, 0f) : MathF.Exp(w - maxVal);
                    }
                }

                var value = weights is null ? input[id] : input[id] * Normalize(weights[srcI / step], normalization, sum, maxVal);
                for (var i = 0; i < from.Length; i++)
                {
                    if (srcI < sizes[i])
                    {
                        var add = from[i].Data[(sizes[i] * srcB) + srcI];
                        value += weights is null ? add : add * Normalize(weights[(srcI / step) + ((i + 1) * layerStep)], normalization, sum, maxVal);
                    }
                }

                result[id] = value;
            }
        });
    }

    private static float Normalize(float w, string normalization, float sum, float maxVal) => normalization switch
    {
        "relu" => Math.Max(w, 0f) / sum,
        "softmax" => MathF.Exp(w - maxVal) / sum,
        _ => w,
    };
}
