using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>Caffe Bias with a learned per-channel bias: <c>y = x + bias_c</c>.</summary>
internal sealed class BiasKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var bias = context.Input(1).Data;
        var layout = TensorLayout.Of(x.Shape);
        if (bias.Length != layout.Channels)
        {
            throw context.Error($"bias of length {bias.Length} does not match {layout.Channels} channels.");
        }

        var input = x.Data;
        var output = context.Output.Data;
        for (var plane = 0; plane < layout.Planes; plane++)
        {
            var t = bias[plane % layout.Channels];
            var offset = plane * layout.Plane;
            for (var i = 0; i < layout.Plane; i++)
            {
                output[offset + i] = input[offset + i] + t;
            }
        }
    }
}
