using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>Per-channel affine map <c>y = scale_c * x + bias_c</c> (Caffe Scale); bias omitted = 0.</summary>
internal sealed class ScaleKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var scale = context.Input(1).Data;
        var bias = context.OptionalInput(2)?.Data;
        var layout = TensorLayout.Of(x.Shape);
        if (scale.Length != layout.Channels || (bias is not null && bias.Length != layout.Channels))
        {
            throw context.Error($"scale of length {scale.Length} does not match {layout.Channels} channels.");
        }

        var input = x.Data;
        var output = context.Output.Data;
        ParallelWork.For(context, layout.Planes, layout.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var c = plane % layout.Channels;
                var s = scale[c];
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
