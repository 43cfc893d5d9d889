using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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

    /// <summary>
    /// Copies elements <c>[start, start + destination.Length)</c> into <paramref name="destination"/>,
    /// so that a writer can stream a large tensor through a small buffer. File-backed data reads
    /// through <paramref name="files"/> when given (one open handle per file for a whole write). This
    /// default materialises the whole tensor; the engine's own kinds override it with a ranged read.
    /// </summary>
    public virtual void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        CheckRange(start, destination.Length);
        if (start == 0 && destination.Length == ElementCount)
        {
            CopyTo(destination);
            return;
        }

        ToArray().AsSpan(checked((int)start), destination.Length).CopyTo(destination);
    }

    public float[] ToArray()
    {
        var result = new float[checked((int)ElementCount)];
        CopyTo(result);
        return result;
    }

    protected void CheckRange(long start, int length)
    {
        if (start < 0 || length < 0 || start + length > ElementCount)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Elements {start}..{start + length} are outside a tensor of {ElementCount}.");
        }
    }
}

/// <summary>Float32 values held in memory.</summary>
public sealed class ArrayData(float[] values) : TensorData
{
    public float[] Values { get; } = values;

    public override long ElementCount => Values.LongLength;

    public override void CopyTo(Span<float> destination) => Values.CopyTo(destination);

    public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        CheckRange(start, destination.Length);
        Values.AsSpan(checked((int)start), destination.Length).CopyTo(destination);
    }
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

        CopyTo(0, destination);
    }

    public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
    {
        CheckRange(start, destination.Length);
        if (files is not null)
        {
            ReadBytes(files.Get(Path), start * sizeof(float), MemoryMarshal.AsBytes(destination));
        }
        else
        {
            using var handle = OpenFiles.OpenRead(Path);
            ReadBytes(handle, start * sizeof(float), MemoryMarshal.AsBytes(destination));
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

    /// <summary>The file's bytes <c>[byteStart, byteStart + destination.Length)</c> of this tensor, as stored (little-endian).</summary>
    public void ReadBytes(SafeFileHandle handle, long byteStart, Span<byte> destination)
    {
        var read = 0;
        while (read < destination.Length)
        {
            var n = RandomAccess.Read(handle, destination[read..], Offset + byteStart + read);
            if (n == 0)
            {
                throw new EndOfStreamException($"{Path} ended at byte {Offset + byteStart + read} while reading a tensor.");
            }

            read += n;
        }
    }
}

/// <summary>
/// Read handles kept open for the length of one operation (a model write, a fold reading its
/// vectors), so that reading many tensor ranges out of one weights file opens it once. Disposing
/// closes them all.
/// </summary>
public sealed class OpenFiles : IDisposable
{
    private readonly Dictionary<string, SafeFileHandle> _handles = new(StringComparer.Ordinal);

    public SafeFileHandle Get(string path)
    {
        if (!_handles.TryGetValue(path, out var handle))
        {
            // Kept for a whole pass over the file, front to back: ask for sequential read-ahead (as cp does).
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            _handles[path] = handle;
        }

        return handle;
    }

    internal static SafeFileHandle OpenRead(string path) => File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);

    public void Dispose()
    {
        foreach (var handle in _handles.Values)
        {
            handle.Dispose();
        }

        _handles.Clear();
    }
}
