using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Reads a <see cref="TensorProto"/> in every storage form ONNX allows: <c>raw_data</c>, the typed
/// fields (<c>float_data</c>, <c>int32_data</c>, <c>int64_data</c>, <c>double_data</c>,
/// <c>uint64_data</c>) and external data in a file beside the model. The stored length is checked
/// against the dims (and an external file's length against offset + length) before any array is
/// allocated; external paths must stay inside the model's folder.
/// </summary>
internal sealed class OnnxTensor
{
    private OnnxTensor(TensorProto proto, Shape shape, long elementCount, int elementSize, string? externalPath, long externalOffset)
    {
        Proto = proto;
        Shape = shape;
        ElementCount = elementCount;
        ElementSize = elementSize;
        ExternalPath = externalPath;
        ExternalOffset = externalOffset;
    }

    public TensorProto Proto { get; }

    public Shape Shape { get; }

    public long ElementCount { get; }

    public int ElementSize { get; }

    public string? ExternalPath { get; }

    public long ExternalOffset { get; }

    public TensorProto.Types.DataType Type => (TensorProto.Types.DataType)Proto.DataType;

    public bool IsFloat => Type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Float16
        or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Bfloat16;

    /// <summary>Validates the tensor's storage against its dims; <paramref name="name"/> names it in errors.</summary>
    public static OnnxTensor Open(TensorProto proto, string name, string modelPath)
    {
        var location = new SourceLocation(modelPath);
        foreach (var d in proto.Dims)
        {
            if (d < 0)
            {
                throw DiagnosticCodes.OnnxTensorSize.Exception(location, $"tensor '{name}' has the negative dimension {d} in dims [{string.Join(", ", proto.Dims)}].");
            }
        }

        var shape = new Shape([.. proto.Dims]);
        long count;
        using (Checked.At(location))
        {
            count = shape.ElementCount;
        }

        var type = (TensorProto.Types.DataType)proto.DataType;
        var size = ElementSizeOf(type) ?? throw DiagnosticCodes.OnnxUnsupportedDataType.Exception(location,
            $"tensor '{name}' has data type {type} ({proto.DataType}); NeuralBuild reads numeric tensors (FLOAT, FLOAT16, DOUBLE, integer and BOOL).");
        long bytes;
        using (Checked.At(location))
        {
            bytes = Checked.Mul(count, size);
        }

        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            var (path, offset) = External(proto, name, modelPath, bytes);
            return new OnnxTensor(proto, shape, count, size, path, offset);
        }

        if (proto.HasRawData)
        {
            if (proto.RawData.Length != bytes)
            {
                throw SizeError(location, name, shape, count, type, bytes, $"its raw_data holds {proto.RawData.Length:N0} bytes");
            }
        }
        else
        {
            var (field, stored) = TypedField(proto, type);
            if (stored != count)
            {
                throw SizeError(location, name, shape, count, type, bytes, $"its {field} holds {stored:N0} values");
            }
        }

        return new OnnxTensor(proto, shape, count, size, null, 0);
    }

    /// <summary>
    /// Reads a file holding one serialized <see cref="TensorProto"/> (the form of ONNX's test data sets,
    /// <c>test_data_set_0/input_0.pb</c>), checked as <see cref="Open"/> checks a model's tensors;
    /// external data is looked up beside the file. A file that does not decode is NM0200.
    /// </summary>
    public static OnnxTensor Load(string path)
    {
        if (!File.Exists(path))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), $"tensor file '{path}' does not exist.");
        }

        var proto = ProtobufParsing.Parse(() => TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), DiagnosticCodes.OnnxMalformed, path,
            why => $"'{Path.GetFileName(path)}' is not a readable ONNX TensorProto: {why}");
        return Open(proto, proto.Name.Length > 0 ? proto.Name : Path.GetFileName(path), path);
    }

    /// <summary>All values as float32 (the executor's element type), converted from the stored type.</summary>
    public float[] ToFloats()
    {
        var values = new float[checked((int)ElementCount)];
        FloatData().CopyTo(values);
        return values;
    }

    /// <summary>The values as float32, read on demand (weights of hundreds of MB are not copied at open).</summary>
    public TensorData FloatData() => Type != TensorProto.Types.DataType.Float ? new OnnxTensorData(this)
        : ExternalPath is not null ? new FileSliceData(ExternalPath, ExternalOffset, ElementCount)
        : OnnxLazyParsing.SliceOf(Proto) is { } slice ? new FileSliceData(slice.Path, slice.Offset, ElementCount)
        : new OnnxTensorData(this);

    /// <summary>All values widened to double (shape constants, small tensors).</summary>
    public double[] ToDoubles()
    {
        var result = new double[checked((int)ElementCount)];
        var bytes = RawBytes();
        if (bytes is not null)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = Decode(bytes, i);
            }

            return result;
        }

        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Type switch
            {
                TensorProto.Types.DataType.Float => Proto.FloatData[i],
                TensorProto.Types.DataType.Int64 => Proto.Int64Data[i],
                TensorProto.Types.DataType.Double => Proto.DoubleData[i],
                TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => Proto.Uint64Data[i],
                TensorProto.Types.DataType.Float16 => (double)BitConverter.UInt16BitsToHalf((ushort)Proto.Int32Data[i]),
                TensorProto.Types.DataType.Bfloat16 => BitConverter.Int32BitsToSingle(Proto.Int32Data[i] << 16),
                _ => Proto.Int32Data[i],
            };
        }

        return result;
    }

    private byte[]? RawBytes()
    {
        if (ExternalPath is not null)
        {
            var bytes = new byte[checked((int)(ElementCount * ElementSize))];
            using var handle = File.OpenHandle(ExternalPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            var read = 0;
            while (read < bytes.Length)
            {
                var n = RandomAccess.Read(handle, bytes.AsSpan(read), ExternalOffset + read);
                if (n == 0)
                {
                    throw new EndOfStreamException($"{ExternalPath} ended while reading a tensor.");
                }

                read += n;
            }

            return bytes;
        }

        return Proto.HasRawData ? Proto.RawData.ToByteArray() : null;
    }

    private double Decode(ReadOnlySpan<byte> bytes, int i)
    {
        var at = bytes[(i * ElementSize)..];
        return Type switch
        {
            TensorProto.Types.DataType.Float => BinaryPrimitives.ReadSingleLittleEndian(at),
            TensorProto.Types.DataType.Double => BinaryPrimitives.ReadDoubleLittleEndian(at),
            TensorProto.Types.DataType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(at),
            TensorProto.Types.DataType.Bfloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(at) << 16),
            TensorProto.Types.DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(at),
            TensorProto.Types.DataType.Uint64 => BinaryPrimitives.ReadUInt64LittleEndian(at),
            TensorProto.Types.DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(at),
            TensorProto.Types.DataType.Uint32 => BinaryPrimitives.ReadUInt32LittleEndian(at),
            TensorProto.Types.DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(at),
            TensorProto.Types.DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(at),
            TensorProto.Types.DataType.Int8 => (sbyte)at[0],
            _ => at[0],
        };
    }

    internal static int? ElementSizeOf(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64 => 8,
        TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 => 2,
        TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool => 1,
        _ => null,
    };

    private static (string Field, long Count) TypedField(TensorProto proto, TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float => ("float_data", proto.FloatData.Count),
        TensorProto.Types.DataType.Int64 => ("int64_data", proto.Int64Data.Count),
        TensorProto.Types.DataType.Double => ("double_data", proto.DoubleData.Count),
        TensorProto.Types.DataType.Uint32 or TensorProto.Types.DataType.Uint64 => ("uint64_data", proto.Uint64Data.Count),
        _ => ("int32_data", proto.Int32Data.Count),
    };

    private static NeuralException SizeError(SourceLocation location, string name, Shape shape, long count, TensorProto.Types.DataType type, long bytes, string actual) =>
        DiagnosticCodes.OnnxTensorSize.Exception(location,
            $"tensor '{name}' has dims {(shape.Rank == 0 ? "[] (a scalar)" : shape.ToString())} ({count:N0} elements of {type}, {bytes:N0} bytes) but {actual}.");

    private static (string Path, long Offset) External(TensorProto proto, string name, string modelPath, long bytes)
    {
        var location = new SourceLocation(modelPath);
        string? file = null;
        long offset = 0;
        long? length = null;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location":
                    file = entry.Value;
                    break;
                case "offset":
                    offset = ParseLength(entry.Value, "offset");
                    break;
                case "length":
                    length = ParseLength(entry.Value, "length");
                    break;
            }
        }

        long ParseLength(string text, string key) =>
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw DiagnosticCodes.OnnxTensorSize.Exception(location, $"tensor '{name}' has external data {key} '{text}', which is not a non-negative integer.");

        if (string.IsNullOrEmpty(file))
        {
            throw DiagnosticCodes.OnnxExternalDataMissing.Exception(location, $"tensor '{name}' is stored externally but names no location.");
        }

        var folder = Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".");
        var segments = file.Split('/', '\\');
        if (Path.IsPathRooted(file) || file.StartsWith('/') || file.StartsWith('\\') || segments.Contains(".."))
        {
            throw Refused(location, name, file, folder);
        }

        var full = Path.GetFullPath(Path.Combine(folder, file));
        if (!IsInside(full, folder) || LeavesThroughLink(folder, segments))
        {
            throw Refused(location, name, file, folder);
        }

        if (!File.Exists(full))
        {
            throw DiagnosticCodes.OnnxExternalDataMissing.Exception(location, $"tensor '{name}' keeps its data in '{file}', which does not exist in '{folder}'.");
        }

        if (length is { } l && l != bytes)
        {
            throw DiagnosticCodes.OnnxTensorSize.Exception(location, $"tensor '{name}' has dims {proto.Dims.Count} axes, {bytes:N0} bytes, but its external data length is {l:N0} bytes.");
        }

        var fileLength = new FileInfo(full).Length;
        if (offset > fileLength || fileLength - offset < bytes)
        {
            throw DiagnosticCodes.OnnxExternalDataMissing.Exception(location,
                $"tensor '{name}' reads {bytes:N0} bytes at offset {offset:N0} of '{file}', which has {fileLength:N0} bytes.");
        }

        return (full, offset);
    }

    private static NeuralException Refused(SourceLocation location, string name, string file, string folder) =>
        DiagnosticCodes.OnnxExternalDataRefused.Exception(location,
            $"tensor '{name}' keeps its data in '{file}', which is outside the model's folder '{folder}'; external data must be a relative path inside it.");

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>True when a component of the path under the folder is a link whose target lies outside it.</summary>
    private static bool LeavesThroughLink(string folder, string[] segments)
    {
        var current = folder;
        foreach (var segment in segments.Where(s => s.Length > 0 && s != "."))
        {
            current = Path.Combine(current, segment);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !IsInside(Path.GetFullPath(target.FullName), folder))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Float32 view of a tensor kept in the parsed model; converted when asked for.</summary>
    private sealed class OnnxTensorData(OnnxTensor tensor) : TensorData
    {
        public override long ElementCount => tensor.ElementCount;

        public override void CopyTo(Span<float> destination)
        {
            if (tensor.Type == TensorProto.Types.DataType.Float && tensor.Proto.HasRawData && BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(tensor.Proto.RawData.Span).CopyTo(destination);
                return;
            }

            if (tensor.Type == TensorProto.Types.DataType.Float && !tensor.Proto.HasRawData && tensor.ExternalPath is null)
            {
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = tensor.Proto.FloatData[i];
                }

                return;
            }

            var values = tensor.ToDoubles();
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)values[i];
            }
        }

        /// <summary>
        /// A range of a float32 tensor read from its bytes alone: the quantizing export and the writer
        /// read a weight 64 K floats at a time, and the base class would convert the whole tensor per range
        /// (quadratic in its size: ResNet-50's int8 export spent 18 s there). Other types convert whole.
        /// </summary>
        public override void CopyTo(long start, Span<float> destination, OpenFiles? files = null)
        {
            CheckRange(start, destination.Length);
            if (tensor.Type == TensorProto.Types.DataType.Float && tensor.Proto.HasRawData && BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(tensor.Proto.RawData.Span).Slice(checked((int)start), destination.Length).CopyTo(destination);
                return;
            }

            if (tensor.Type == TensorProto.Types.DataType.Float && !tensor.Proto.HasRawData && tensor.ExternalPath is null)
            {
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = tensor.Proto.FloatData[checked((int)start + i)];
                }

                return;
            }

            base.CopyTo(start, destination, files);
        }
    }
}
