using System.Numerics;
using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution.Kernels;

/// <summary>
/// Inference batch normalisation in darknet's order of operations (normalize_cpu, scale_bias,
/// add_bias): <c>y = ((x - mean) / D) * gamma + beta</c>, with <c>D = sqrt(var + eps)</c>
/// ("inside", AlexeyAB, ONNX, Caffe) or <c>D = sqrt(var) + eps</c> ("outside", pjreddie's CPU
/// forward). D is computed in double as darknet's sqrt does. An omitted beta is 0 (pjreddie's
/// standalone [batchnorm] stores none); an omitted gamma is 1 (Caffe's BatchNorm has neither).
/// </summary>
internal sealed class BatchNormalizationKernel : Kernel
{
    public override string OpType => "BatchNormalization";

    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var mean = context.Input(3).Data;
        var gamma = context.OptionalInput(1)?.Data ?? Enumerable.Repeat(1f, mean.Length).ToArray();
        var beta = context.OptionalInput(2)?.Data;
        var variance = context.Input(4).Data;
        var epsilon = context.Attributes.Float("epsilon", 1e-5);
        var outside = context.Attributes.String("epsilon_placement", "inside") == "outside";
        var layout = TensorLayout.Of(x.Shape);
        if (gamma.Length != layout.Channels || mean.Length != layout.Channels || variance.Length != layout.Channels || (beta is not null && beta.Length != layout.Channels))
        {
            throw context.Error($"statistics of length {gamma.Length} do not match {layout.Channels} channels.");
        }

        var denominators = new float[layout.Channels];
        for (var c = 0; c < denominators.Length; c++)
        {
            denominators[c] = (float)(outside ? Math.Sqrt(variance[c]) + epsilon : Math.Sqrt(variance[c] + epsilon));
        }

        var input = x.Data;
        var output = context.Output.Data;
        ParallelWork.For(context, layout.Planes, layout.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var c = plane % layout.Channels;
                Normalize(
                    input.AsSpan(plane * layout.Plane, layout.Plane),
                    output.AsSpan(plane * layout.Plane, layout.Plane),
                    mean[c], denominators[c], gamma[c], beta?[c] ?? 0f);
            }
        });
    }

    private static void Normalize(ReadOnlySpan<float> x, Span<float> y, float mean, float denominator, float gamma, float beta)
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
