using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// <c>y = scale_c * x + bias_c</c> per channel, in Caffe's order (the product, then the sum); an
/// absent scale is 1 and an absent bias 0, so a bias alone adds exactly and a scale alone multiplies
/// exactly.
/// </summary>
internal sealed class ChannelAffineKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var scale = context.OptionalInput(1)?.Data;
        var bias = context.OptionalInput(2)?.Data;
        var layout = TensorLayout.Of(x.Shape);
        if ((scale is not null && scale.Length != layout.Channels) || (bias is not null && bias.Length != layout.Channels))
        {
            throw context.Error($"scale of length {scale?.Length} or bias of length {bias?.Length} does not match {layout.Channels} channels.");
        }

        var input = x.Data;
        var output = context.Output.Data;
        ParallelWork.For(context, layout.Planes, layout.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var c = plane % layout.Channels;
                var s = scale?[c] ?? 1f;
                var t = bias?[c] ?? 0f;
                var offset = plane * layout.Plane;
                for (var i = 0; i < layout.Plane; i++)
                {
                    output[offset + i] = (input[offset + i] * s) + t;
                }
            }
        });
    }
}
