using System.Numerics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Fully connected layer (darknet forward_connected_layer): <c>y[n, j] = Σ_i W[j, i] x[n, i] + b[j]</c>
/// with the input flattened per item. At inference the batch is one or a few items, so this is a
/// matrix-vector product bounded by reading W once: it runs as vectorised dot products over
/// blocks of W's rows on all cores rather than through <see cref="Gemm"/>, whose 16- or 32-column
/// tiles would be almost all padding for a single input column. With <c>transpose = 1</c> (Caffe
/// InnerProduct) W is stored (I, J); the kernel transposes it once per executor. ONNX Gemm adds
/// <c>alpha</c> and <c>beta</c>, <c>y = alpha * (x · W) + beta * C</c>, where the bias C broadcasts to
/// the (N, J) result the numpy way: (J) or (1, J) per output, a scalar for all, (N, 1) per item,
/// (N, J) per element.
/// </summary>
internal sealed class FullyConnectedKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var w = context.Input(1);
        var biasTensor = context.OptionalInput(2);
        var bias = biasTensor?.Data;
        var attributes = context.AttributesAs<FullyConnectedAttributes>();
        var alpha = (float)attributes.Alpha;
        var beta = (float)attributes.Beta;
        var y = context.Output;
        var batch = checked((int)x.Shape[0]);
        var inputs = checked((int)x.Shape.ElementsPerItem);
        var transposed = attributes.Transposed;
        var outputs = checked((int)w.Shape[transposed ? 1 : 0]);
        if (w.Shape[transposed ? 0 : 1] != inputs)
        {
            throw context.Error($"weights {w.Shape} do not fit {inputs} inputs.");
        }

        // The bias's strides along the items and the outputs of the (N, J) result.
        int itemStride = 0, outputStride = 1;
        if (biasTensor is not null)
        {
            var matrix = new Ir.Shape(batch, outputs);
            if (!Broadcasting.Fits(biasTensor.Shape, matrix))
            {
                throw context.Error($"bias {biasTensor.Shape} does not broadcast to the {batch}x{outputs} result.");
            }

            var strides = Broadcasting.Strides(biasTensor.Shape, matrix);
            (itemStride, outputStride) = (strides[0], strides[1]);
        }

        var weights = transposed ? context.State(() => Transpose(w.Data, inputs, outputs)) : w.Data;
        var src = x.Data;
        var dst = y.Data;
        ParallelWork.For(context, outputs, Math.Max(1, (1 << 16) / Math.Max(1, inputs)), (start, end) =>
        {
            for (var j = (int)start; j < end; j++)
            {
                var row = weights.AsSpan(j * inputs, inputs);
                for (var n = 0; n < batch; n++)
                {
                    var b = bias is null ? 0f : beta * bias[(n * itemStride) + (j * outputStride)];
                    dst[(n * outputs) + j] = (alpha * Dot(row, src.AsSpan(n * inputs, inputs))) + b;
                }
            }
        });
    }

    /// <summary>(I, J) row-major to (J, I) row-major.</summary>
    private static float[] Transpose(float[] w, int inputs, int outputs)
    {
        var t = new float[w.Length];
        for (var i = 0; i < inputs; i++)
        {
            for (var j = 0; j < outputs; j++)
            {
                t[(j * inputs) + i] = w[(i * outputs) + j];
            }
        }

        return t;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
            }

            sum = Vector.Sum(acc);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
