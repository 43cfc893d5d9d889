using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [local] (forward_local_layer): a convolution with its own weights at every output
/// location. Output (f, oy, ox) starts at its bias and accumulates, in order of
/// k = (ci*size + ky)*size + kx, <c>W[loc, f, k]</c> times the input at
/// (ci, oy*stride - pad + ky, ox*stride - pad + kx) (0 outside), as darknet's gemm adds into the
/// copied biases. <c>pad</c> is darknet's 0/1 flag used as a pixel count by its im2col.
/// </summary>
internal sealed class LocallyConnectedKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1).Data;
        var bias = context.Input(2).Data;
        var y = context.Output;
        var attributes = context.AttributesAs<LocallyConnectedAttributes>();
        var size = checked((int)attributes.Kernel);
        var stride = checked((int)attributes.Stride);
        var pad = attributes.Pad ? 1 : 0;
        int batch = ConvGeometry.Dim(x.Shape, 0), channels = ConvGeometry.Dim(x.Shape, 1), height = ConvGeometry.Dim(x.Shape, 2), width = ConvGeometry.Dim(x.Shape, 3);
        int filters = ConvGeometry.Dim(y.Shape, 1), outH = ConvGeometry.Dim(y.Shape, 2), outW = ConvGeometry.Dim(y.Shape, 3);
        var locations = outH * outW;
        var depth = channels * size * size;

        // Darknet sizes the output one way and its im2col another; where they disagree (pad=1
        // with size > 3) its gemm reads a misaligned column matrix. Refuse rather than guess.
        if (((height + (2 * pad) - size) / stride) + 1 != outH || ((width + (2 * pad) - size) / stride) + 1 != outW)
        {
            throw context.Unsupported($"size={size} with pad={pad}, where darknet's output size and im2col disagree");
        }

        if (w.Length != locations * filters * depth || bias.Length != filters * locations)
        {
            throw context.Error($"weights of {w.Length} and biases of {bias.Length} values do not fit {locations} locations x {filters} filters x {depth}.");
        }

        var src = x.Data;
        var dst = y.Data;
        ParallelWork.For(context, (long)batch * locations, 16, (start, end) =>
        {
            var column = new float[depth];
            for (var item = start; item < end; item++)
            {
                var n = (int)(item / locations);
                var loc = (int)(item % locations);
                var oy = loc / outW;
                var ox = loc % outW;
                for (var k = 0; k < depth; k++)
                {
                    var ci = k / (size * size);
                    var ky = k / size % size;
                    var kx = k % size;
                    var iy = (oy * stride) - pad + ky;
                    var ix = (ox * stride) - pad + kx;
                    column[k] = (uint)iy < (uint)height && (uint)ix < (uint)width ? src[(((n * channels) + ci) * height * width) + (iy * width) + ix] : 0f;
                }

                for (var f = 0; f < filters; f++)
                {
                    var sum = bias[(f * locations) + loc];
                    var row = ((loc * filters) + f) * depth;
                    for (var k = 0; k < depth; k++)
                    {
                        sum += w[row + k] * column[k];
                    }

                    dst[(((n * filters) + f) * locations) + loc] = sum;
                }
            }
        });
    }
}
