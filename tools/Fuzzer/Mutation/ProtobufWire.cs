using System.Buffers.Binary;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>
/// A protobuf message as its wire records, without a schema, so that any field of a .caffemodel or
/// .onnx (including one the generated classes would reject) can be set to an extreme and written
/// back. A length-delimited payload that parses completely as records is kept as a nested message.
/// </summary>
public sealed class WireMessage
{
    private const int MaxNesting = 12;

    public List<WireField> Fields { get; } = [];

    public static WireMessage? TryParse(ReadOnlySpan<byte> bytes) => TryParse(bytes, 0);

    private static WireMessage? TryParse(ReadOnlySpan<byte> bytes, int depth)
    {
        var message = new WireMessage();
        var at = 0;
        while (at < bytes.Length)
        {
            if (!TryReadVarint(bytes, ref at, out var tag) || (tag >> 3) is 0 or > int.MaxValue)
            {
                return null;
            }

            var field = new WireField { Number = (int)(tag >> 3), WireType = (int)(tag & 7) };
            switch (field.WireType)
            {
                case 0:
                    if (!TryReadVarint(bytes, ref at, out var value))
                    {
                        return null;
                    }

                    field.Varint = value;
                    break;
                case 1 or 5:
                    var width = field.WireType == 1 ? 8 : 4;
                    if (bytes.Length - at < width)
                    {
                        return null;
                    }

                    field.Payload = bytes.Slice(at, width).ToArray();
                    at += width;
                    break;
                case 2:
                    if (!TryReadVarint(bytes, ref at, out var length) || length > (ulong)(bytes.Length - at))
                    {
                        return null;
                    }

                    var payload = bytes.Slice(at, (int)length);
                    field.Payload = payload.ToArray();
                    // Large payloads are packed numbers or raw tensors: parsing them as records would
                    // only cost time.
                    field.Nested = depth < MaxNesting && payload.Length is > 0 and < (1 << 16) ? TryParse(payload, depth + 1) : null;
                    at += (int)length;
                    break;
                default:
                    return null;
            }

            message.Fields.Add(field);
        }

        return message;
    }

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        Write(stream);
        return stream.ToArray();
    }

    private void Write(MemoryStream stream)
    {
        foreach (var field in Fields)
        {
            WriteVarint(stream, ((ulong)field.Number << 3) | (uint)field.WireType);
            switch (field.WireType)
            {
                case 0:
                    WriteVarint(stream, field.Varint);
                    break;
                case 2:
                    var payload = field.Nested?.ToBytes() ?? field.Payload;
                    WriteVarint(stream, field.LengthOverride ?? (ulong)payload.Length);
                    stream.Write(payload);
                    break;
                default:
                    stream.Write(field.Payload);
                    break;
            }
        }
    }

    /// <summary>Every field at every depth, with the list that holds it (to delete or duplicate it there).</summary>
    public IEnumerable<(WireField Field, List<WireField> Owner)> AllFields()
    {
        foreach (var field in Fields)
        {
            yield return (field, Fields);
            if (field.Nested is not null)
            {
                foreach (var inner in field.Nested.AllFields())
                {
                    yield return inner;
                }
            }
        }
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> bytes, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 70 && at < bytes.Length; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void WriteVarint(MemoryStream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }

    internal static byte[] Fixed(int width, ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes[..width];
    }
}

public sealed class WireField
{
    public int Number { get; set; }

    public int WireType { get; set; }

    public ulong Varint { get; set; }

    public byte[] Payload { get; set; } = [];

    public WireMessage? Nested { get; set; }

    /// <summary>A length written in place of the payload's real one: the lie a damaged file tells.</summary>
    public ulong? LengthOverride { get; set; }

    public WireField Clone() => new()
    {
        Number = Number,
        WireType = WireType,
        Varint = Varint,
        Payload = Payload,
        Nested = Nested is null ? null : WireMessage.TryParse(Nested.ToBytes()),
        LengthOverride = LengthOverride,
    };
}

/// <summary>Schema-blind protobuf damage: integers and lengths at the extremes, fields dropped or repeated.</summary>
public static class ProtobufMutations
{
    public static IReadOnlyList<FileMutation> All { get; } = [ExtremeVarint, LyingLength, ExtremeFixed, DropField, DuplicateField, EmptyPayload];

    private static readonly ulong[] ExtremeIntegers =
    [
        0, 1, ulong.MaxValue /* -1 as int32/int64 */, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)uint.MaxValue + 1,
        long.MaxValue, 0x8000000000000000, 1UL << 40, 0xFFFFFFFF80000000 /* int.MinValue */, 65536,
    ];

    private static readonly ulong[] ExtremeLengths =
    [
        0, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, long.MaxValue, ulong.MaxValue, 1UL << 40,
    ];

    private static readonly ulong[] ExtremeFixedValues =
    [
        0, 0x7FC00000 /* NaN */, 0x7F800000 /* +inf */, 0xFF800000 /* -inf */, 0x7F7FFFFF /* float.MaxValue */, 0x00000001 /* denormal */,
        0x7FF8000000000000 /* double NaN */, 0x7FEFFFFFFFFFFFFF /* double.MaxValue */, ulong.MaxValue,
    ];

    public static Mutated ExtremeVarint(byte[] bytes, Rng rng) => OnField(bytes, rng, f => f.WireType == 0, (f, _) =>
    {
        var value = rng.Pick(ExtremeIntegers);
        var before = f.Varint;
        f.Varint = value;
        return $"varint field {f.Number} {before} -> {value}";
    });

    public static Mutated LyingLength(byte[] bytes, Rng rng) => OnField(bytes, rng, f => f.WireType == 2, (f, _) =>
    {
        var real = (ulong)(f.Nested?.ToBytes().Length ?? f.Payload.Length);
        var lie = rng.Chance(0.3) ? real + (ulong)rng.Between(1, 16) : rng.Chance(0.15) && real > 0 ? real - 1 : rng.Pick(ExtremeLengths);
        f.LengthOverride = lie;
        return $"length of field {f.Number} {real} -> {lie}";
    });

    public static Mutated ExtremeFixed(byte[] bytes, Rng rng) => OnField(bytes, rng, f => f.WireType is 1 or 5, (f, _) =>
    {
        var value = rng.Pick(ExtremeFixedValues);
        f.Payload = WireMessage.Fixed(f.Payload.Length, value);
        return $"fixed field {f.Number} set to 0x{value:X}";
    });

    public static Mutated DropField(byte[] bytes, Rng rng) => OnField(bytes, rng, _ => true, (f, owner) =>
    {
        owner.Remove(f);
        return $"field {f.Number} removed";
    });

    public static Mutated DuplicateField(byte[] bytes, Rng rng) => OnField(bytes, rng, _ => true, (f, owner) =>
    {
        var copies = rng.Chance(0.8) ? 1 : rng.Between(2, 64);
        for (var i = 0; i < copies; i++)
        {
            owner.Insert(owner.IndexOf(f), f.Clone());
        }

        return $"field {f.Number} repeated {copies} more time(s)";
    });

    public static Mutated EmptyPayload(byte[] bytes, Rng rng) => OnField(bytes, rng, f => f.WireType == 2, (f, _) =>
    {
        f.Nested = null;
        f.Payload = [];
        return $"field {f.Number} emptied";
    });

    /// <summary>Parses, picks a field that <paramref name="eligible"/> accepts, edits it, writes back;
    /// bytes that are not protobuf get a byte-level mutation instead.</summary>
    private static Mutated OnField(byte[] bytes, Rng rng, Func<WireField, bool> eligible, Func<WireField, List<WireField>, string> edit)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var message = WireMessage.TryParse(bytes);
        var candidates = message?.AllFields().Where(c => eligible(c.Field)).ToList();
        if (message is null || candidates is null || candidates.Count == 0)
        {
            return ByteMutations.FlipBits(bytes, rng);
        }

        var (field, owner) = rng.Pick(candidates);
        var what = edit(field, owner);
        return new Mutated(message.ToBytes(), what);
    }
}
