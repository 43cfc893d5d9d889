using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Tests.Execution.Primitives;

[TestClass]
public sealed class GemmTests
{
    /// <summary>
    /// Every micro-tile width against the definition of the matrix product, evaluated in double:
    /// 13 rows (two full 6-row panels and one of 1), 300 deep (two k-blocks, the second
    /// accumulating) and 37 columns (a partial tile at every width). On hardware without a width's
    /// vectors the product is emulated but must still be right: that width is what ARM64 uses.
    /// </summary>
    [TestMethod]
    [DataRow(8)]
    [DataRow(16)]
    [DataRow(32)]
    public void Every_tile_width_computes_the_matrix_product(int width)
    {
        const int rows = 13, depth = 300, columns = 37;
        var random = new Random(width);
        var a = Values(random, rows * depth);
        var b = Values(random, depth * columns);
        var c = new float[rows * columns];
        Gemm.Multiply(width, PackedPanels.Pack(a, rows, depth, rowStride: depth, colStride: 1), b, columns, c);

        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                double expected = 0;
                for (var k = 0; k < depth; k++)
                {
                    expected += (double)a[(i * depth) + k] * b[(k * columns) + j];
                }

                Assert.AreEqual(expected, c[(i * columns) + j], 1e-4, $"C[{i}, {j}] at width {width}");
            }
        }
    }

    [TestMethod]
    public void Tile_widths_agree_bit_for_bit()
    {
        // Each element is summed over k in the same order at every width.
        var random = new Random(5);
        var a = Values(random, 7 * 20);
        var b = Values(random, 20 * 50);
        var packed = PackedPanels.Pack(a, 7, 20, rowStride: 20, colStride: 1);
        var results = new[] { 8, 16, 32 }.Select(width =>
        {
            var c = new float[7 * 50];
            Gemm.Multiply(width, packed, b, 50, c);
            return c;
        }).ToList();
        CollectionAssert.AreEqual(results[0], results[1]);
        CollectionAssert.AreEqual(results[0], results[2]);
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
