using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Inference batch normalisation in darknet's order of operations (normalize_cpu, scale_bias,
/// add_bias): <c>y = ((x - mean) / D) * gamma + beta</c>, with <c>D = sqrt(var + eps)</c>
/// ("inside", AlexeyAB, ONNX, Caffe) or <c>D = sqrt(var) + eps</c> ("outside", pjreddie's CPU
/// forward). D is computed in double as darknet's sqrt does. An omitted beta is 0 (pjreddie's
/// standalone [batchnorm] stores none); an omitted gamma is 1 (Caffe's BatchNorm has neither).
/// </summary>
internal sealed class BatchNormalizationKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var mean = context.Input(3).Data;
        var gamma = context.OptionalInput(1)?.Data ?? ChannelNormalization.Ones(mean.Length);
        var beta = context.OptionalInput(2)?.Data;
        var variance = context.Input(4).Data;
        var (epsilon, outside, _) = context.AttributesAs<BatchNormAttributes>();
        var layout = TensorLayout.Of(x.Shape);
        if (gamma.Length != layout.Channels || mean.Length != layout.Channels || variance.Length != layout.Channels || (beta is not null && beta.Length != layout.Channels))
        {
            throw context.Error($"statistics of length {gamma.Length} do not match {layout.Channels} channels.");
        }

        var denominators = ChannelNormalization.Denominators(variance, epsilon, outside);

        var input = x.Data;
        var output = context.Output.Data;
        ParallelWork.For(context, layout.Planes, layout.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var c = plane % layout.Channels;
                ChannelNormalization.Apply(
                    input.AsSpan(plane * layout.Plane, layout.Plane),
                    output.AsSpan(plane * layout.Plane, layout.Plane),
                    mean[c], denominators[c], gamma[c], beta?[c] ?? 0f);
            }
        });
    }
}
