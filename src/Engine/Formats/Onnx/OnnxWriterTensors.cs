using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// The tensor storage of <see cref="OnnxWriter"/>: new tensors get their bytes lazily (computed into one
/// scratch buffer when the serialiser reaches them), and external data, the source's and large new
/// tensors', is streamed into one data file beside the output.
/// </summary>
internal sealed class OnnxWriterTensors(GraphProto source, string documentPath, string dataFileName)
{
    /// <summary>New tensors this large go to the external data file of a model that has one (onnx's own default threshold).</summary>
    private const long ExternalThreshold = 1024;

    /// <summary>The lazy data of each new tensor.</summary>
    private readonly Dictionary<TensorProto, TensorData> _lazy = new(ReferenceEqualityComparer.Instance);

    private readonly Scratch _scratch = new();

    /// <summary>Data to put in the external file: a slice of a source file, or a new tensor.</summary>
    private sealed record ExternalPiece(TensorProto Tensor, long Offset, long Length, string? SourcePath, long SourceOffset, TensorData? Data, DT Type);

    private readonly List<ExternalPiece> _external = [];
    private long _externalLength;

    /// <summary>True when some tensor was pointed into the output's data file, which must then be written.</summary>
    public bool HasExternalData => _external.Count > 0;

    private bool SourceHasExternalData => source.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External);

    /// <summary>Registers the values of a new tensor, written when the tensor is.</summary>
    public void AddNew(TensorProto tensor, TensorData data) => _lazy[tensor] = data;

    /// <summary>The tensor as written: external ones point into the output's data file; new ones get their (lazy) bytes.</summary>
    public TensorProto External(TensorProto tensor)
    {
        if (_lazy.TryGetValue(tensor, out var data))
        {
            var type = (DT)tensor.DataType;
            var bytes = data.ElementCount * ElementSize(type);
            if (SourceHasExternalData && bytes >= ExternalThreshold)
            {
                return Point(tensor, bytes, null, 0, data, type);
            }

            tensor.RawData = UnsafeByteOperations.UnsafeWrap(new LazyBytes(data, type, checked((int)bytes), _scratch).Memory);
            return tensor;
        }

        if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
        {
            return tensor;
        }

        var opened = OnnxTensor.Open(tensor, tensor.Name, documentPath);
        return Point(tensor.Clone(), opened.ElementCount * opened.ElementSize, opened.ExternalPath, opened.ExternalOffset, null, (DT)tensor.DataType);
    }

    private TensorProto Point(TensorProto tensor, long length, string? sourcePath, long sourceOffset, TensorData? data, DT type)
    {
        var offset = _externalLength;
        var others = tensor.ExternalData.Where(e => e.Key is not ("location" or "offset" or "length")).ToList();
        tensor.ExternalData.Clear();
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataFileName });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
        tensor.ExternalData.AddRange(others);
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        _external.Add(new ExternalPiece(tensor, offset, length, sourcePath, sourceOffset, data, type));
        _externalLength += length;
        return tensor;
    }

    private static int ElementSize(DT type) => type switch
    {
        DT.Float => 4,
        DT.Float16 => 2,
        DT.Double => 8,
        DT.Int8 => 1,
        _ => throw new NotSupportedException($"new tensors of type {type} are not written."),
    };

    /// <summary>Writes <paramref name="data"/> as little-endian values of <paramref name="type"/> into <paramref name="destination"/>.</summary>
    private static void Encode(TensorData data, DT type, Span<byte> destination)
    {
        var count = checked((int)data.ElementCount);
        if (type == DT.Float)
        {
            var floats = MemoryMarshal.Cast<byte, float>(destination);
            data.CopyTo(floats);
            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<byte, int>(destination);
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }

            return;
        }

        var values = ArrayPool<float>.Shared.Rent(count);
        try
        {
            data.CopyTo(values.AsSpan(0, count));
            for (var i = 0; i < count; i++)
            {
                if (type == DT.Int8)
                {
                    // Quantized weights: the values are already exact integers in -128..127.
                    destination[i] = unchecked((byte)(sbyte)values[i]);
                }
                else if (type == DT.Float16)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)values[i]);
                }
                else
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(destination[(i * 8)..], values[i]);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    public void WriteExternal(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var buffer = new byte[1 << 20];
        foreach (var piece in _external)
        {
            if (piece.SourcePath is not null)
            {
                using var source = File.OpenHandle(piece.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read);
                for (long done = 0; done < piece.Length;)
                {
                    var n = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(buffer.Length, piece.Length - done)), piece.SourceOffset + done);
                    if (n == 0)
                    {
                        throw new EndOfStreamException($"'{piece.SourcePath}' ended while copying tensor '{piece.Tensor.Name}'.");
                    }

                    stream.Write(buffer, 0, n);
                    done += n;
                }
            }
            else
            {
                var bytes = _scratch.Get(checked((int)piece.Length));
                Encode(piece.Data!, piece.Type, bytes.AsSpan(0, (int)piece.Length));
                stream.Write(bytes, 0, (int)piece.Length);
            }
        }
    }

    /// <summary>One buffer, grown to the largest new tensor, that every lazy tensor computes into in turn.</summary>
    private sealed class Scratch
    {
        private byte[] _buffer = [];

        public byte[] Get(int length)
        {
            if (_buffer.Length < length)
            {
                _buffer = new byte[length];
            }

            return _buffer;
        }
    }

    /// <summary>
    /// The bytes of a new tensor, computed when the serialiser asks for them (the span is valid until
    /// the next lazy tensor is asked for; Google.Protobuf copies it out at once). Its length is known
    /// without computing anything, so message sizes are computed for free.
    /// </summary>
    private sealed class LazyBytes(TensorData data, DT type, int length, Scratch scratch) : MemoryManager<byte>
    {
        public override Memory<byte> Memory => CreateMemory(length);

        public override Span<byte> GetSpan()
        {
            var span = scratch.Get(length).AsSpan(0, length);
            Encode(data, type, span);
            return span;
        }

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("lazy tensor bytes are not pinned.");

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
