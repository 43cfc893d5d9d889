using System.Numerics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX Add, Sub, Mul, Div and Max on float32 (attribute <c>operation</c>) with numpy broadcasting: each
/// output element combines the operands' elements at its index, an operand of size 1 on an axis
/// (or without the axis) repeating along it. Equal shapes run as one vectorised pass; otherwise the
/// output is walked row by row (<see cref="Broadcasting"/>), each operand either advancing along the
/// row or repeating one value. Division is IEEE: x/0 is ±∞ or NaN, as in ONNX Runtime; Max of a NaN
/// is NaN (numpy's maximum, ONNX's reference).
/// </summary>
internal sealed class ArithmeticKernel : Kernel
{
    public override bool SupportsInPlace => true;

    /// <summary>Output 0 = input 0 (op) input 1, numpy-broadcast.</summary>
    public override void Run(KernelContext context)
    {
        var operation = context.AttributesAs<ArithmeticAttributes>().Operation;
        var a = context.Input(0);
        var b = context.Input(1);
        var y = context.Output;
        if (a.Shape.Equals(y.Shape) && b.Shape.Equals(y.Shape))
        {
            var left = a.Data;
            var right = b.Data;
            var dst = y.Data;
            ParallelWork.For(context, dst.Length, 1 << 16, (start, end) =>
                Combine(operation, left.AsSpan((int)start, (int)(end - start)), right.AsSpan((int)start, (int)(end - start)), dst.AsSpan((int)start, (int)(end - start))));
            return;
        }

        var strides = new[] { Broadcasting.Strides(a.Shape, y.Shape), Broadcasting.Strides(b.Shape, y.Shape) };
        var inner = y.Shape.Rank == 0 ? 1 : checked((int)y.Shape[-1]);
        var strideA = y.Shape.Rank == 0 ? 0 : strides[0][^1];
        var strideB = y.Shape.Rank == 0 ? 0 : strides[1][^1];
        Broadcasting.ForEachRow(y.Shape, strides, (at, offsets) =>
        {
            var dst = y.Data.AsSpan(at, inner);
            if (strideA == 1 && strideB == 1)
            {
                Combine(operation, a.Data.AsSpan(offsets[0], inner), b.Data.AsSpan(offsets[1], inner), dst);
            }
            else if (strideA == 1)
            {
                CombineScalarRight(operation, a.Data.AsSpan(offsets[0], inner), b.Data[offsets[1]], dst);
            }
            else if (strideB == 1)
            {
                CombineScalarLeft(operation, a.Data[offsets[0]], b.Data.AsSpan(offsets[1], inner), dst);
            }
            else
            {
                dst.Fill(Apply(operation, a.Data[offsets[0]], b.Data[offsets[1]]));
            }
        });
    }

    private static float Apply(ArithmeticOperation operation, float x, float y) => operation switch
    {
        ArithmeticOperation.Add => x + y,
        ArithmeticOperation.Sub => x - y,
        ArithmeticOperation.Mul => x * y,
        ArithmeticOperation.Div => x / y,
        _ => Math.Max(x, y), // NaN when either is NaN
    };

    private static void Combine(ArithmeticOperation operation, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && operation != ArithmeticOperation.Max)
        {
            for (; i <= z.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var u = new Vector<float>(x[i..]);
                var v = new Vector<float>(y[i..]);
                var r = operation switch
                {
                    ArithmeticOperation.Add => u + v,
                    ArithmeticOperation.Sub => u - v,
                    ArithmeticOperation.Mul => u * v,
                    _ => u / v,
                };
                r.CopyTo(z[i..]);
            }
        }

        for (; i < z.Length; i++)
        {
            z[i] = Apply(operation, x[i], y[i]);
        }
    }

    private static void CombineScalarRight(ArithmeticOperation operation, ReadOnlySpan<float> x, float y, Span<float> z)
    {
        for (var i = 0; i < z.Length; i++)
        {
            z[i] = Apply(operation, x[i], y);
        }
    }

    private static void CombineScalarLeft(ArithmeticOperation operation, float x, ReadOnlySpan<float> y, Span<float> z)
    {
        for (var i = 0; i < z.Length; i++)
        {
            z[i] = Apply(operation, x, y[i]);
        }
    }
}
