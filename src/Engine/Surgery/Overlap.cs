using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Surgery;

/// <summary>The part two tensors of one rank share: the leading indices of every axis (the first channels).</summary>
internal static class Overlap
{
    /// <summary>Copies the overlap of <paramref name="source"/> into <paramref name="target"/> (both row-major); returns the values copied.</summary>
    public static long Copy(float[] source, Shape sourceShape, float[] target, Shape targetShape)
    {
        var rank = sourceShape.Rank;
        if (rank != targetShape.Rank)
        {
            throw new ArgumentException($"shapes {sourceShape} and {targetShape} differ in rank.", nameof(targetShape));
        }

        if (rank == 0)
        {
            target[0] = source[0];
            return 1;
        }

        var extent = new long[rank];
        for (var axis = 0; axis < rank; axis++)
        {
            extent[axis] = Math.Min(sourceShape[axis], targetShape[axis]);
            if (extent[axis] == 0)
            {
                return 0;
            }
        }

        // Walk the overlap's rows (every axis but the last), copying each row's run at once.
        var run = (int)extent[rank - 1];
        var index = new long[rank];
        long copied = 0;
        while (true)
        {
            long from = 0, to = 0;
            for (var axis = 0; axis < rank; axis++)
            {
                from = (from * sourceShape[axis]) + index[axis];
                to = (to * targetShape[axis]) + index[axis];
            }

            Array.Copy(source, from, target, to, run);
            copied += run;

            var carry = rank - 2;
            while (carry >= 0 && ++index[carry] == extent[carry])
            {
                index[carry--] = 0;
            }

            if (carry < 0)
            {
                return copied;
            }
        }
    }
}
