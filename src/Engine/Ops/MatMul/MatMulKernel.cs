using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX MatMul (numpy matmul): (…, M, K) x (…, K, N) → (…, M, N) for every pair of matrices of the
/// broadcast leading axes; a rank-1 left operand is a row vector (1, K) and a rank-1 right operand a
/// column (K, 1), whose axis the output drops. Each product runs on the convolution's
/// <see cref="Gemm"/>: the left matrix is packed into panels, the right one streams as it is stored,
/// and the panels are shared out over the threads (or, with many small products, the products).
/// </summary>
internal sealed unsafe class MatMulKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var a = context.Input(0);
        var b = context.Input(1);
        var y = context.Output;
        long[] aDims = a.Shape.Rank == 1 ? [1, a.Shape[0]] : [.. a.Shape.Dims];
        long[] bDims = b.Shape.Rank == 1 ? [b.Shape[0], 1] : [.. b.Shape.Dims];
        var m = checked((int)aDims[^2]);
        var k = checked((int)aDims[^1]);
        var n = checked((int)bDims[^1]);
        if (bDims[^2] != k)
        {
            throw context.Error($"cannot multiply {a.Shape} by {b.Shape}.");
        }

        // The broadcast batch axes, and each operand's matrix index along them.
        var batch = new Shape(Batch(aDims[..^2], bDims[..^2]));
        var count = checked((int)batch.ElementCount);
        if ((long)count * m * n != y.Data.Length)
        {
            throw context.Error($"the output {y.Shape} does not hold {count} products of {m}x{n}.");
        }

        var aStrides = Broadcasting.Strides(new Shape(aDims[..^2]), batch);
        var bStrides = Broadcasting.Strides(new Shape(bDims[..^2]), batch);
        var pairs = new (int A, int B)[count];
        var index = new int[batch.Rank];
        for (var t = 0; t < count; t++)
        {
            int ia = 0, ib = 0;
            for (var axis = 0; axis < batch.Rank; axis++)
            {
                ia += index[axis] * aStrides[axis];
                ib += index[axis] * bStrides[axis];
            }

            pairs[t] = (ia, ib);
            for (var axis = batch.Rank - 1; axis >= 0; axis--)
            {
                if (++index[axis] < batch[axis])
                {
                    break;
                }

                index[axis] = 0;
            }
        }

        var left = a.Data;
        var right = b.Data;
        var dst = y.Data;
        if (count == 1)
        {
            var packed = PackedPanels.Pack(left.AsSpan(0, m * k), m, k, rowStride: k, colStride: 1);
            ParallelWork.For(context, packed.Panels, Math.Max(1, (1 << 16) / Math.Max(1, k * n / Gemm.MR)), (start, end) =>
                Multiply(packed, (int)start, (int)end, right.AsSpan(0, k * n), n, dst.AsSpan(0, m * n)));
            return;
        }

        ParallelWork.For(context, count, Math.Max(1, (1 << 16) / Math.Max(1, (long)m * k * n)), (start, end) =>
        {
            for (var t = (int)start; t < end; t++)
            {
                var (ia, ib) = pairs[t];
                var packed = PackedPanels.Pack(left.AsSpan(ia * m * k, m * k), m, k, rowStride: k, colStride: 1);
                Multiply(packed, 0, packed.Panels, right.AsSpan(ib * k * n, k * n), n, dst.AsSpan(t * m * n, m * n));
            }
        });
    }

    /// <summary>Rows of panels [panelStart, panelEnd) of C = A · B, B being K x n row-major.</summary>
    private static void Multiply(PackedPanels a, int panelStart, int panelEnd, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        fixed (float* bPtr = b, cPtr = c)
        {
            for (var k0 = 0; k0 < a.Cols; k0 += Gemm.KC)
            {
                Gemm.MultiplyBlock(a, panelStart, panelEnd, k0, Math.Min(Gemm.KC, a.Cols - k0), bPtr + ((long)k0 * n), n, n, bPadded: false, cPtr, n, accumulate: k0 > 0);
            }
        }
    }

    /// <summary>numpy broadcast of two lists of batch dimensions (already checked by the shape rule).</summary>
    private static long[] Batch(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var dims = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            var db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            dims[i] = da == 1 ? db : da;
        }

        return dims;
    }
}
