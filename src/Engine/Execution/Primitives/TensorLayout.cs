using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>How the kernels see a tensor: batch items, channels and the elements of one channel plane.</summary>
internal readonly record struct TensorLayout(int Batch, int Channels, int Plane)
{
    /// <summary>N x C x (everything after C); a rank-2 tensor is N x C with 1-element planes.</summary>
    public static TensorLayout Of(Shape shape)
    {
        var batch = checked((int)shape[0]);
        var channels = shape.Rank > 1 ? checked((int)shape[1]) : 1;
        long plane = 1;
        for (var axis = 2; axis < shape.Rank; axis++)
        {
            plane = Checked.Mul(plane, shape[axis]);
        }

        return new TensorLayout(batch, channels, checked((int)plane));
    }

    public int Planes => Batch * Channels;

    /// <summary>Planes per parallel chunk so that a chunk holds at least 64 Ki elements.</summary>
    public long PlanesPerChunk => Math.Max(1, (1 << 16) / Math.Max(1, Plane));
}
