using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
        if (destination.Length != ElementCount)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats, tensor has {ElementCount}.", nameof(destination));
        }

        CopyTo(0, destination);
    }

    /// <summary>A range of the scaled tensor: the source's range, then each (part of a) block scaled.</summary>
    public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        CheckRange(start, destination.Length);
        source.CopyTo(start, destination, files);

        // Only whole blocks carry a factor (a trailing partial block, which no fold produces, stays as it is).
        var end = Math.Min(start + destination.Length, ElementCount / blockSize * blockSize);
        for (var block = start / blockSize; block * blockSize < end; block++)
        {
            var from = Math.Max(block * blockSize, start);
            var to = Math.Min((block + 1) * blockSize, end);
            Scale(destination.Slice((int)(from - start), (int)(to - from)), scaleOfBlock(block));
        }
    }

    /// <summary>
    /// <c>values[i] = (float)(scale * values[i])</c>. Fully optimised from the first call: the fuse
    /// of a large model spends its compute here, and tier-0 vector code is many times slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(Span<float> values, double scale)
    {
        var i = 0;
        ref var first = ref MemoryMarshal.GetReference(values);
        if (Vector512.IsHardwareAccelerated)
        {
            var factor = Vector512.Create(scale);
            for (; i <= values.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lower, upper) = Vector512.Widen(Vector512.LoadUnsafe(ref first, (nuint)i));
                Vector512.Narrow(lower * factor, upper * factor).StoreUnsafe(ref first, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var factor = Vector256.Create(scale);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref first, (nuint)i));
                Vector256.Narrow(lower * factor, upper * factor).StoreUnsafe(ref first, (nuint)i);
            }
        }

        for (; i < values.Length; i++)
        {
            values[i] = (float)(scale * values[i]);
        }
    }
}
