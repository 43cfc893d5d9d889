using System.Buffers.Binary;
using System.Text;

namespace NeuralBuild.Engine.Tests.Surgery;

/// <summary>
/// A caffemodel read straight from the protobuf wire format, independent of NeuralBuild's reader:
/// NetParameter.layer (field 100) → LayerParameter name (1), type (2), blobs (7) → BlobProto data (5,
/// packed or not), double_data (8), shape (7) → BlobShape dim (1), and the legacy num / channels /
/// height / width (1–4). Each blob keeps its encoded bytes, so "bit for bit" compares them exactly.
/// </summary>
internal static class CaffemodelWire
{
    public sealed record Blob(byte[] Encoded, float[] Data, long[] Shape);

    public sealed record Layer(string Name, string Type, IReadOnlyList<Blob> Blobs);

    public static Dictionary<string, Layer> Read(string path)
    {
        var layers = new Dictionary<string, Layer>(StringComparer.Ordinal);
        foreach (var (field, bytes) in Fields(File.ReadAllBytes(path)))
        {
            if (field == 100)
            {
                var layer = ReadLayer(bytes);
                layers.TryAdd(layer.Name, layer);
            }
        }

        return layers;
    }

    private static Layer ReadLayer(byte[] message)
    {
        string name = string.Empty, type = string.Empty;
        var blobs = new List<Blob>();
        foreach (var (field, bytes) in Fields(message))
        {
            switch (field)
            {
                case 1: name = Encoding.UTF8.GetString(bytes); break;
                case 2: type = Encoding.UTF8.GetString(bytes); break;
                case 7: blobs.Add(ReadBlob(bytes)); break;
            }
        }

        return new Layer(name, type, blobs);
    }

    private static Blob ReadBlob(byte[] message)
    {
        var data = new List<float>();
        var shape = new List<long>();
        var legacy = new long[4];
        foreach (var (field, bytes) in Fields(message))
        {
            switch (field)
            {
                case 5:
                    for (var i = 0; i + 4 <= bytes.Length; i += 4)
                    {
                        data.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i)));
                    }

                    break;
                case 8:
                    for (var i = 0; i + 8 <= bytes.Length; i += 8)
                    {
                        data.Add((float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i)));
                    }

                    break;
                case 7:
                    foreach (var (dimField, dims) in Fields(bytes))
                    {
                        if (dimField == 1)
                        {
                            var at = 0;
                            while (at < dims.Length)
                            {
                                shape.Add((long)Varint(dims, ref at));
                            }
                        }
                    }

                    break;
                case >= 1 and <= 4:
                    var offset = 0;
                    legacy[field - 1] = (long)Varint(bytes, ref offset);
                    break;
            }
        }

        return new Blob(message, [.. data], shape.Count > 0 ? [.. shape] : legacy);
    }

    /// <summary>
    /// The fields of a message as (number, payload): a length-delimited field's bytes, a varint's or
    /// fixed value's own encoding (so unpacked floats arrive four bytes at a time and add up as packed ones).
    /// </summary>
    private static IEnumerable<(int Field, byte[] Bytes)> Fields(byte[] message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var key = Varint(message, ref at);
            var field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    var start = at;
                    Varint(message, ref at);
                    yield return (field, message[start..at]);
                    break;
                case 1:
                    yield return (field, message[at..(at + 8)]);
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    yield return (field, message[at..(at + length)]);
                    at += length;
                    break;
                case 5:
                    yield return (field, message[at..(at + 4)]);
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {key & 7} at byte {at}.");
            }
        }
    }

    private static ulong Varint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
