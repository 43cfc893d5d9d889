using System.Runtime.InteropServices;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.Engine.Tests.Formats;

[TestClass]
public sealed class TensorStreamTests
{
    [TestMethod]
    public void Writes_the_header_then_every_tensor_exactly_across_chunk_boundaries()
    {
        using var fixture = new DarknetFixture();
        var random = new SplitMix64(11);
        var stored = Enumerable.Range(0, 3_300_001).Select(_ => (float)random.Normal()).ToArray();
        stored[17] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // a NaN payload the copy must keep
        var source = Path.Combine(fixture.Folder, "source.bin");
        File.WriteAllBytes(source, [.. new byte[12], .. MemoryMarshal.AsBytes(stored.AsSpan())]);

        // Tensors at odd sizes and offsets, so chunk edges fall inside tensors and inside scale blocks;
        // 13 MB in all, more than one write-behind step.
        double[] scales = [.. Enumerable.Range(0, 2000).Select(i => 1.0 / (i + 3))];
        var tensors = new (string Name, TensorData Data)[]
        {
            ("untouched", new FileSliceData(source, 12, 1_000_003)),
            ("empty", new ArrayData([])),
            ("scaled", new BlockScaledData(new FileSliceData(source, 12 + (4 * 1_000_003), 1_200_000), 1_200_000 / 1000, b => scales[b])),
            ("small", new ArrayData([1.5f, -2.25f, 3e-38f])),
            ("scaled twice", new BlockScaledData(new BlockScaledData(new FileSliceData(source, 12 + (4 * 2_200_003), 1_099_998), 9, b => scales[b % 2000]), 1_099_998 / 1999, b => scales[b] * 7)),
        };
        byte[] header = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
        var path = Path.Combine(fixture.Folder, "out.bin");

        TensorStream.Write(path, header, tensors.Select(t => new Initializer(t.Name, new Shape(t.Data.ElementCount), t.Data)));

        var expected = new List<byte>(header);
        foreach (var (_, data) in tensors)
        {
            expected.AddRange(data is FileSliceData slice
                ? File.ReadAllBytes(source).AsSpan((int)slice.Offset, (int)slice.ByteLength).ToArray()
                : MemoryMarshal.AsBytes(data.ToArray().AsSpan()).ToArray());
        }

        CollectionAssert.AreEqual(expected, File.ReadAllBytes(path));
    }
}
