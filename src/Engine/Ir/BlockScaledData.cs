using System.Runtime.Intrinsics;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// A tensor equal to <paramref name="source"/> with every contiguous block of <c>blockSize</c>
/// elements multiplied by its own factor. Folds produce these instead of new arrays, so writing a
/// fused model streams layer by layer and never holds two copies of the weights. Products are
/// computed in double and rounded once to float32 (the vector path widens, multiplies in double
/// and narrows, which rounds exactly like the scalar cast).
/// </summary>
public sealed class BlockScaledData(TensorData source, long blockSize, Func<long, double> scaleOfBlock) : TensorData
{
    public override long ElementCount => source.ElementCount;

    public override void CopyTo(Span<float> destination)
    {
        source.CopyTo(destination);
        var blocks = destination.Length / blockSize;
        for (long b = 0; b < blocks; b++)
        {
            Scale(destination.Slice((int)(b * blockSize), (int)blockSize), scaleOfBlock(b));
        }
    }

    private static void Scale(Span<float> block, double scale)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var factor = Vector256.Create(scale);
            for (; i <= block.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create<float>(block[i..]));
                Vector256.Narrow(lower * factor, upper * factor).CopyTo(block[i..]);
            }
        }

        for (; i < block.Length; i++)
        {
            block[i] = (float)(scale * block[i]);
        }
    }
}
