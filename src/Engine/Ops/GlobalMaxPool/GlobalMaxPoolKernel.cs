using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>Caffe MAX pooling with <c>global_pooling</c>: the maximum of each channel plane, output (N, C, 1, 1).</summary>
internal sealed class GlobalMaxPoolKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var layout = TensorLayout.Of(x.Shape);
        var src = x.Data;
        var dst = context.Output.Data;
        for (var plane = 0; plane < layout.Planes; plane++)
        {
            var max = float.MinValue;
            var span = src.AsSpan(plane * layout.Plane, layout.Plane);
            foreach (var v in span)
            {
                max = v > max ? v : max;
            }

            dst[plane] = max;
        }
    }
}
