using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.Engine.Tests.Ir;

[TestClass]
public sealed class TensorDataTests
{
    [TestMethod]
    public void Every_kind_copies_any_range_as_the_matching_slice_of_the_whole()
    {
        using var fixture = new DarknetFixture();
        var random = new SplitMix64(5);
        var values = Enumerable.Range(0, 5000).Select(_ => (float)random.Normal()).ToArray();
        var path = Path.Combine(fixture.Folder, "values.bin");
        File.WriteAllBytes(path, [.. new byte[8], .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())]);

        TensorData[] kinds =
        [
            new ArrayData(values),
            new FileSliceData(path, 8, values.Length),
            new BlockScaledData(new FileSliceData(path, 8, values.Length), 125, b => 1.0 / (b + 1)),
            new BlockScaledData(new ArrayData(values), 1, b => b % 3 - 1.5),
            new WholeOnly(values),
        ];
        (long Start, int Length)[] ranges = [(0, 5000), (0, 1), (124, 2), (125, 125), (3, 4000), (4999, 1), (2500, 0)];
        using var files = new OpenFiles();
        foreach (var data in kinds)
        {
            var whole = data.ToArray();
            foreach (var (start, length) in ranges)
            {
                var part = new float[length];
                data.CopyTo(start, part, files);
                CollectionAssert.AreEqual(whole.AsSpan((int)start, length).ToArray(), part, $"{data.GetType().Name} [{start}, +{length})");
                data.CopyTo(start, part);
                CollectionAssert.AreEqual(whole.AsSpan((int)start, length).ToArray(), part, $"{data.GetType().Name} [{start}, +{length}) without open files");
            }

            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => data.CopyTo(4999, new float[2]));
        }
    }

    /// <summary>A kind that only knows how to copy itself whole (the base class's ranged copy).</summary>
    private sealed class WholeOnly(float[] values) : TensorData
    {
        public override long ElementCount => values.Length;

        public override void CopyTo(Span<float> destination) => values.CopyTo(destination);
    }
}
