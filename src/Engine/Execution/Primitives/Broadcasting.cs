using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// numpy (ONNX multidirectional) broadcasting as strides: an operand is read through the output's
/// index with stride 0 on the axes where it has size 1 or no axis at all. Kernels walk the output in
/// row-major order with an odometer over all axes but the last and a contiguous run along the last.
/// </summary>
internal static class Broadcasting
{
    /// <summary>Strides of <paramref name="shape"/> seen through the broadcast <paramref name="output"/> shape (0 on broadcast axes).</summary>
    public static int[] Strides(Shape shape, Shape output)
    {
        var strides = new int[output.Rank];
        var stride = 1;
        for (var axis = output.Rank - 1; axis >= 0; axis--)
        {
            var source = axis - (output.Rank - shape.Rank);
            var dim = source >= 0 ? checked((int)shape[source]) : 1;
            strides[axis] = dim == 1 ? 0 : stride;
            stride = checked(stride * dim);
        }

        return strides;
    }

    /// <summary>True when <paramref name="shape"/> broadcasts to <paramref name="output"/> without changing it (ONNX's unidirectional broadcasting).</summary>
    public static bool Fits(Shape shape, Shape output)
    {
        if (shape.Rank > output.Rank)
        {
            return false;
        }

        for (var i = 1; i <= shape.Rank; i++)
        {
            if (shape[-i] != 1 && shape[-i] != output[-i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Calls <paramref name="row"/> for every run of the output's last axis, in row-major order, with the
    /// output offset and each operand's offset (<paramref name="strides"/> from <see cref="Strides"/>).
    /// The row's length is the output's last dimension; operand offsets advance by their last stride.
    /// </summary>
    public static void ForEachRow(Shape output, int[][] strides, Action<int, int[]> row)
    {
        var rank = output.Rank;
        if (rank == 0)
        {
            row(0, new int[strides.Length]);
            return;
        }

        var dims = output.Dims.Select(d => checked((int)d)).ToArray();
        var inner = dims[^1];
        var rows = checked((int)(output.ElementCount / Math.Max(1, inner)));
        var index = new int[rank];
        var offsets = new int[strides.Length];
        for (var r = 0; r < rows; r++)
        {
            row(r * inner, offsets);

            // Odometer step over the axes before the last, moving each operand's offset along.
            for (var axis = rank - 2; axis >= 0; axis--)
            {
                index[axis]++;
                for (var k = 0; k < offsets.Length; k++)
                {
                    offsets[k] += strides[k][axis];
                }

                if (index[axis] < dims[axis])
                {
                    break;
                }

                for (var k = 0; k < offsets.Length; k++)
                {
                    offsets[k] -= strides[k][axis] * dims[axis];
                }

                index[axis] = 0;
            }
        }
    }
}
