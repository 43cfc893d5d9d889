namespace NeuralBuild.Engine.Execution.Primitives;

/// <summary>
/// The left operand of <see cref="Gemm"/> rearranged once into panels of <see cref="Gemm.MR"/> rows:
/// panel <c>p</c> holds <c>A[p*MR + r, k]</c> at <c>[(p*Cols + k)*MR + r]</c>, so the micro-kernel
/// reads MR consecutive floats per step of k. Rows past <see cref="Rows"/> are zero. Convolution
/// weights are constant, so their packing is done once per node and reused by every run.
/// </summary>
internal sealed class PackedPanels
{
    private PackedPanels(float[] data, int rows, int cols)
    {
        Data = data;
        Rows = rows;
        Cols = cols;
    }

    public float[] Data { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int Panels => (Rows + Gemm.MR - 1) / Gemm.MR;

    /// <summary>Packs the <paramref name="rows"/> x <paramref name="cols"/> matrix whose element (i, k) is <c>source[i*rowStride + k*colStride]</c>.</summary>
    public static PackedPanels Pack(ReadOnlySpan<float> source, int rows, int cols, int rowStride, int colStride)
    {
        var panels = (rows + Gemm.MR - 1) / Gemm.MR;
        var data = new float[(long)panels * cols * Gemm.MR];
        for (var p = 0; p < panels; p++)
        {
            var baseRow = p * Gemm.MR;
            var valid = Math.Min(Gemm.MR, rows - baseRow);
            var panel = data.AsSpan((int)((long)p * cols * Gemm.MR), cols * Gemm.MR);
            for (var r = 0; r < valid; r++)
            {
                var rowStart = (long)(baseRow + r) * rowStride;
                for (var k = 0; k < cols; k++)
                {
                    panel[(k * Gemm.MR) + r] = source[(int)(rowStart + ((long)k * colStride))];
                }
            }
        }

        return new PackedPanels(data, rows, cols);
    }
}
