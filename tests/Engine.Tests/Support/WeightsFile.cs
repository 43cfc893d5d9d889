using System.Buffers.Binary;

namespace NeuralBuild.Engine.Tests.Support;

/// <summary>
/// Builds .weights bytes by hand, byte by byte, independently of the engine's own header code:
/// int32 major, minor, revision, then <c>seen</c> as uint32 or uint64, then little-endian floats.
/// </summary>
internal static class WeightsFile
{
    public static byte[] Header32(int major, int minor, int revision, uint seen)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, major);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), minor);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), revision);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), seen);
        return bytes;
    }

    public static byte[] Header64(int major, int minor, int revision, ulong seen)
    {
        var bytes = new byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, major);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), minor);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), revision);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(12), seen);
        return bytes;
    }

    /// <summary>The header followed by <paramref name="values"/> as float32.</summary>
    public static byte[] With(byte[] header, IReadOnlyList<float> values)
    {
        var bytes = new byte[header.Length + (values.Count * sizeof(float))];
        header.CopyTo(bytes, 0);
        for (var i = 0; i < values.Count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(header.Length + (i * sizeof(float))), values[i]);
        }

        return bytes;
    }

    /// <summary>0, 1, 2, …: every value names its own position, so a misplaced tensor shows.</summary>
    public static float[] Counting(int count) => Enumerable.Range(0, count).Select(i => (float)i).ToArray();

    public static float[] Floats(ReadOnlySpan<byte> bytes)
    {
        var values = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
        }

        return values;
    }
}
