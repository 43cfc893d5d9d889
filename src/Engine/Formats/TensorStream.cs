using System.Buffers.Binary;
using System.Runtime.InteropServices;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats;

/// <summary>
/// Writes a header followed by tensors as little-endian float32, back to back, to a new file,
/// through one buffer: each chunk is filled straight from the tensors (an untouched
/// <see cref="FileSliceData"/> as its stored bytes, a computed tensor such as a folded
/// <see cref="BlockScaledData"/> read and scaled in the same pass, while the chunk is in cache)
/// and written with one positioned write. Nothing is allocated per tensor and no tensor is ever
/// held whole. <see cref="WriteBehind"/> starts writeback of the finished part on the way.
/// </summary>
/// <remarks>
/// One producer on purpose: the kernel serialises buffered writes to one file, and a second
/// producer thread measured no faster on two idle cores and clearly slower on a busy machine.
/// </remarks>
internal static class TensorStream
{
    /// <summary>Bytes per write: large enough that system calls cost nothing, small enough to stay in cache while scaled.</summary>
    private const int ChunkBytes = 1 << 20;

    public static void Write(string path, ReadOnlySpan<byte> header, IEnumerable<Initializer> tensors)
    {
        if (header.Length > ChunkBytes || header.Length % sizeof(float) != 0)
        {
            throw new ArgumentException("The header must fit one chunk and keep the floats after it 4-byte aligned.", nameof(header));
        }

        using var output = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var writeBehind = new WriteBehind(output);
        using var files = new OpenFiles();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var chunk = buffer.AsSpan(0, ChunkBytes);
            header.CopyTo(chunk);
            var filled = header.Length;
            long position = 0;
            foreach (var initializer in tensors)
            {
                var data = initializer.Data ?? throw new InvalidOperationException($"Tensor '{initializer.Name}' has no data.");
                for (long done = 0; done < data.ElementCount;)
                {
                    if (filled == chunk.Length)
                    {
                        RandomAccess.Write(output, chunk, position);
                        position += filled;
                        filled = 0;
                        writeBehind.Completed(position);
                    }

                    var count = (int)Math.Min(data.ElementCount - done, (chunk.Length - filled) / sizeof(float));
                    Fill(data, done, chunk.Slice(filled, count * sizeof(float)), files);
                    filled += count * sizeof(float);
                    done += count;
                }
            }

            RandomAccess.Write(output, chunk[..filled], position);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Elements <c>[start, start + bytes.Length / 4)</c> of a tensor as little-endian bytes.</summary>
    private static void Fill(TensorData data, long start, Span<byte> bytes, OpenFiles files)
    {
        if (data is FileSliceData slice)
        {
            // Untouched tensor: its bytes as stored, so a round trip is bit-exact (NaN payloads included).
            slice.ReadBytes(files.Get(slice.Path), start * sizeof(float), bytes);
            return;
        }

        var values = MemoryMarshal.Cast<byte, float>(bytes);
        data.CopyTo(start, values, files);
        if (!BitConverter.IsLittleEndian)
        {
            var ints = MemoryMarshal.Cast<float, int>(values);
            for (var i = 0; i < ints.Length; i++)
            {
                ints[i] = BinaryPrimitives.ReverseEndianness(ints[i]);
            }
        }
    }
}
