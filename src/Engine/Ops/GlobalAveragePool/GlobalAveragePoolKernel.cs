using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet's forward_avgpool_layer: per channel, the float sum of the plane accumulated in order,
/// divided by H*W.
/// </summary>
internal sealed class GlobalAveragePoolKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var layout = TensorLayout.Of(x.Shape);
        var src = x.Data;
        var dst = context.Output.Data;
        for (var plane = 0; plane < layout.Planes; plane++)
        {
            var sum = 0f;
            var values = src.AsSpan(plane * layout.Plane, layout.Plane);
            foreach (var v in values)
            {
                sum += v;
            }

            dst[plane] = sum / layout.Plane;
        }
    }
}
