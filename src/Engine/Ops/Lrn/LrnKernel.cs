using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [normalization] (forward_normalization_layer): <c>y = x * norm^-beta</c> with a running
/// window sum per pixel. norm of channel 0 is <c>kappa + alpha * Σ x_k²</c> for k &lt; size/2; each
/// next channel k copies the previous norm, subtracts <c>alpha * x²</c> of channel
/// <c>k - (size-1)/2 - 1</c> and adds that of channel <c>k + size/2</c> (when they exist). The
/// start leaves channel size/2 out of every window it should be in (for size=5 channel 2 is
/// never added) and alpha is not divided by size: darknet's arithmetic, kept as it is. A node with a
/// <c>region</c> attribute comes from Caffe and follows Caffe's formula (<see cref="CaffeLrn"/>).
/// </summary>
internal sealed class LrnKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var attributes = context.AttributesAs<LrnAttributes>();
        var size = checked((int)attributes.Size);
        var alpha = (float)attributes.Alpha;
        var beta = (float)attributes.Beta;
        var kappa = (float)attributes.Kappa;
        var layout = TensorLayout.Of(x.Shape);
        if (attributes.CaffeWithinChannel is { } withinChannel)
        {
            CaffeLrn.Apply(x.Data, context.Output.Data, layout, ConvGeometry.Dim(x.Shape, 2), ConvGeometry.Dim(x.Shape, 3), size,
                attributes.Alpha, attributes.Beta, attributes.Kappa, withinChannel);
            return;
        }

        var plane = layout.Plane;
        var channels = layout.Channels;
        var src = x.Data;
        var dst = context.Output.Data;
        ParallelWork.For(context, (long)layout.Batch * plane, 1 << 12, (start, end) =>
        {
            var squared = new float[channels];
            for (var pixel = start; pixel < end; pixel++)
            {
                var b = (int)(pixel / plane);
                var p = (int)(pixel % plane);
                var baseIndex = (b * channels * plane) + p;
                for (var k = 0; k < channels; k++)
                {
                    var v = src[baseIndex + (k * plane)];
                    squared[k] = (float)Math.Pow(v, 2);
                }

                var norm = kappa;
                for (var k = 0; k < size / 2 && k < channels; k++)
                {
                    norm += alpha * squared[k];
                }

                for (var k = 0; k < channels; k++)
                {
                    if (k > 0)
                    {
                        var prev = k - ((size - 1) / 2) - 1;
                        var next = k + (size / 2);
                        if (prev >= 0)
                        {
                            norm += -alpha * squared[prev];
                        }

                        if (next < channels)
                        {
                            norm += alpha * squared[next];
                        }
                    }

                    var index = baseIndex + (k * plane);
                    dst[index] = (float)Math.Pow(norm, -beta) * src[index];
                }
            }
        });
    }
}
