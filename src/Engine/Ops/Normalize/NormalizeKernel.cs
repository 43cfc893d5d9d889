using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's Normalize (normalize_layer.cpp, CPU): <c>norm = sqrt(Σ x² + eps)</c>, the sum over C, H and W
/// of one image when <c>across_spatial</c>, else over C at each position; <c>y = x / norm * scale</c>
/// with one scale (<c>channel_shared</c>) or one per channel.
/// </summary>
internal sealed class NormalizeKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var scale = context.Input(1).Data;
        var (acrossSpatial, shared, epsilon) = context.AttributesAs<NormalizeAttributes>();
        var eps = (float)epsilon;
        var layout = TensorLayout.Of(x.Shape);
        if (scale.Length != (shared ? 1 : layout.Channels))
        {
            throw context.Error($"scale of length {scale.Length} does not match {(shared ? 1 : layout.Channels)}.");
        }

        var src = x.Data;
        var dst = context.Output.Data;
        var item = layout.Channels * layout.Plane;
        var norms = new float[layout.Plane];
        for (var n = 0; n < layout.Batch; n++)
        {
            var b = n * item;
            if (acrossSpatial)
            {
                var sum = 0f;
                for (var i = 0; i < item; i++)
                {
                    sum += src[b + i] * src[b + i];
                }

                Array.Fill(norms, (float)Math.Sqrt(sum + eps));
            }
            else
            {
                Array.Fill(norms, eps);
                for (var c = 0; c < layout.Channels; c++)
                {
                    for (var p = 0; p < layout.Plane; p++)
                    {
                        var v = src[b + (c * layout.Plane) + p];
                        norms[p] += v * v;
                    }
                }

                for (var p = 0; p < layout.Plane; p++)
                {
                    norms[p] = (float)Math.Sqrt(norms[p]);
                }
            }

            for (var c = 0; c < layout.Channels; c++)
            {
                var s = shared ? scale[0] : scale[c];
                for (var p = 0; p < layout.Plane; p++)
                {
                    var i = b + (c * layout.Plane) + p;
                    dst[i] = src[i] / norms[p] * s;
                }
            }
        }
    }
}
