using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Parses an ONNX file without its large weights. The file is read once, in order: the graph's
/// initializers whose <c>raw_data</c> is at least <see cref="Threshold"/> bytes are left in the file
/// (their offset and length noted, the length checked against what remains of the file), everything
/// else is copied into a small skeleton that Google.Protobuf parses. Each left-out <c>raw_data</c>
/// becomes a <see cref="ByteString"/> over <see cref="FileSliceBytes"/>, read from the file when
/// someone asks for its bytes (the writer's serialiser, a conversion), so a model of hundreds of MB
/// costs the size of its graph, not of its weights, and nothing holds a second copy. A file the scan
/// cannot follow (a repeated graph field, protobuf groups, a length past the end) is parsed whole
/// instead, which reports its damage as before.
/// </summary>
internal static class OnnxLazyParsing
{
    /// <summary>raw_data this large stays in the file; smaller tensors (shape constants, biases) are parsed.</summary>
    public const int Threshold = 64 * 1024;

    // Field numbers of onnx.proto on the path ModelProto.graph → GraphProto.initializer → TensorProto.raw_data.
    private const int ModelGraphField = 7;
    private const int GraphInitializerField = 5;
    private const int TensorRawDataField = 9;

    private enum Level
    {
        Model,
        Graph,
        Tensor,
    }

    /// <summary>The model with its large weights as lazy slices of <paramref name="path"/>; null when the file must be parsed whole.</summary>
    public static ModelProto? TryParse(string path, Func<byte[], ModelProto> parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var scan = new Scan(stream);
        var skeleton = new MemoryStream();
        if (!scan.Copy(Level.Model, stream.Length, skeleton, tensorIndex: -1))
        {
            return null;
        }

        var proto = parse(skeleton.ToArray());
        foreach (var (index, (offset, length)) in scan.Slices)
        {
            if (proto.Graph is null || index >= proto.Graph.Initializer.Count)
            {
                return null;
            }

            proto.Graph.Initializer[index].RawData = UnsafeByteOperations.UnsafeWrap(new FileSliceBytes(path, offset, length, stream.Length).Memory);
        }

        return proto;
    }

    /// <summary>The file slice behind a tensor's raw_data when it was left in the file, so float weights can be handed out as <see cref="Ir.FileSliceData"/> without reading them.</summary>
    public static FileSliceBytes? SliceOf(TensorProto tensor) =>
        tensor.HasRawData && MemoryMarshal.TryGetMemoryManager(tensor.RawData.Memory, out FileSliceBytes? slice) ? slice : null;

    /// <summary>One pass over the wire format, copying all but the large raw_data of top-level initializers.</summary>
    private sealed class Scan(FileStream stream)
    {
        private bool _graphSeen;
        private int _initializers;

        /// <summary>Initializer index → where its raw_data lies in the file.</summary>
        public Dictionary<int, (long Offset, int Length)> Slices { get; } = [];

        public bool Copy(Level level, long end, Stream output, int tensorIndex)
        {
            while (stream.Position < end)
            {
                if (Varint(end) is not { } tag)
                {
                    return false;
                }

                var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
                if (wire != 2)
                {
                    WriteVarint(output, tag);
                }

                switch (wire)
                {
                    case 0:
                        if (Varint(end) is not { } value)
                        {
                            return false;
                        }

                        WriteVarint(output, value);
                        break;
                    case 1 or 5:
                        if (!CopyBytes(output, wire == 1 ? 8 : 4, end))
                        {
                            return false;
                        }

                        break;
                    case 2:
                        if (Varint(end) is not { } declared || declared > (ulong)(end - stream.Position))
                        {
                            return false;
                        }

                        if (!CopyLengthDelimited(level, tag, (long)declared, output, tensorIndex))
                        {
                            return false;
                        }

                        break;
                    default:
                        return false;
                }
            }

            return stream.Position == end;
        }

        private bool CopyLengthDelimited(Level level, ulong tag, long length, Stream output, int tensorIndex)
        {
            var field = (int)(tag >> 3);
            var end = stream.Position + length;
            var inner = (level, field) switch
            {
                (Level.Model, ModelGraphField) => Level.Graph,
                (Level.Graph, GraphInitializerField) => Level.Tensor,
                _ => (Level?)null,
            };
            if (inner is { } child)
            {
                if (child == Level.Graph && _graphSeen)
                {
                    return false;
                }

                _graphSeen |= child == Level.Graph;
                var message = new MemoryStream();
                if (!Copy(child, end, message, child == Level.Tensor ? _initializers++ : -1))
                {
                    return false;
                }

                WriteVarint(output, tag);
                WriteVarint(output, (ulong)message.Length);
                message.Position = 0;
                message.CopyTo(output);
                return true;
            }

            if (level == Level.Tensor && field == TensorRawDataField)
            {
                Slices.Remove(tensorIndex);
                if (length >= Threshold && length <= Array.MaxLength)
                {
                    // Left in the file: absent from the skeleton, set as a slice after parsing.
                    Slices[tensorIndex] = (stream.Position, (int)length);
                    stream.Seek(length, SeekOrigin.Current);
                    return true;
                }
            }

            WriteVarint(output, tag);
            WriteVarint(output, (ulong)length);
            return CopyBytes(output, length, end);
        }

        private bool CopyBytes(Stream output, long count, long end)
        {
            if (count > end - stream.Position)
            {
                return false;
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(count, 1 << 16));
            try
            {
                while (count > 0)
                {
                    var n = stream.Read(buffer, 0, (int)Math.Min(count, buffer.Length));
                    if (n == 0)
                    {
                        return false;
                    }

                    output.Write(buffer, 0, n);
                    count -= n;
                }

                return true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private ulong? Varint(long end)
        {
            ulong result = 0;
            for (var shift = 0; shift < 64 && stream.Position < end; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0)
                {
                    return null;
                }

                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            return null;
        }

        private static void WriteVarint(Stream output, ulong value)
        {
            while (value >= 0x80)
            {
                output.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            output.WriteByte((byte)value);
        }
    }
}

/// <summary>
/// A tensor's raw_data left in its ONNX file: read from the file each time its bytes are asked for
/// (into a fresh array the caller's copy outlives), after checking the file still has the length it
/// had when it was parsed. Its length is known without reading, so message sizes cost nothing.
/// </summary>
internal sealed class FileSliceBytes(string path, long offset, int length, long fileLength) : MemoryManager<byte>
{
    public string Path { get; } = path;

    public long Offset { get; } = offset;

    public int Length { get; } = length;

    public override Memory<byte> Memory => CreateMemory(Length);

    public override Span<byte> GetSpan()
    {
        using var handle = Ir.OpenFiles.OpenRead(Path);
        var now = RandomAccess.GetLength(handle);
        if (now != fileLength)
        {
            throw DiagnosticCodes.OnnxMalformed.Exception(new SourceLocation(Path),
                $"'{System.IO.Path.GetFileName(Path)}' changed while NeuralBuild was using it ({fileLength:N0} bytes when read, {now:N0} now); read the model again.");
        }

        var bytes = new byte[Length];
        new Ir.FileSliceData(Path, Offset, 0).ReadBytes(handle, 0, bytes);
        return bytes;
    }

    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("lazy tensor bytes are not pinned.");

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
