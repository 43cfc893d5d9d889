using System.Runtime.InteropServices;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// The values of a weight tensor. Readers hand out <see cref="FileSliceData"/> so that opening a
/// model of hundreds of MB reads nothing until a pass or the executor asks for the floats.
/// </summary>
public abstract class TensorData
{
    public abstract long ElementCount { get; }

    /// <summary>Copies the float32 values into <paramref name="destination"/> (length == ElementCount).</summary>
    public abstract void CopyTo(Span<float> destination);

    public float[] ToArray()
    {
        var result = new float[checked((int)ElementCount)];
        CopyTo(result);
        return result;
    }
}

/// <summary>Float32 values held in memory.</summary>
public sealed class ArrayData(float[] values) : TensorData
{
    public float[] Values { get; } = values;

    public override long ElementCount => Values.LongLength;

    public override void CopyTo(Span<float> destination) => Values.CopyTo(destination);
}

/// <summary>Little-endian float32 values at a known offset of a file; read on demand.</summary>
public sealed class FileSliceData(string path, long offset, long elementCount) : TensorData
{
    public string Path { get; } = path;

    public long Offset { get; } = offset;

    public override long ElementCount { get; } = elementCount;

    public long ByteLength => ElementCount * sizeof(float);

    public override void CopyTo(Span<float> destination)
    {
        if (destination.Length != ElementCount)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats, tensor has {ElementCount}.", nameof(destination));
        }

        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var bytes = MemoryMarshal.AsBytes(destination);
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes[read..], Offset + read);
            if (n == 0)
            {
                throw new EndOfStreamException($"{Path} ended at byte {Offset + read} while reading a tensor.");
            }

            read += n;
        }

        if (!BitConverter.IsLittleEndian)
        {
            var ints = MemoryMarshal.Cast<float, int>(destination);
            for (var i = 0; i < ints.Length; i++)
            {
                ints[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ints[i]);
            }
        }
    }
}
