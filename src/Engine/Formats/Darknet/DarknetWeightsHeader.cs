using System.Buffers.Binary;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// The .weights header: int32 major, minor, revision, then <c>seen</c> (images trained on) as
/// uint64 when <c>major*10 + minor >= 2</c>, else uint32. pjreddie's darknet also keeps the 32-bit
/// <c>seen</c> when major or minor is 1000 or more (the versions that mark transposed [connected]
/// weights); AlexeyAB's does not. Kept verbatim so a rewrite preserves it.
/// </summary>
public sealed record DarknetWeightsHeader(int Major, int Minor, int Revision, ulong Seen)
{
    /// <summary>Whether <c>seen</c> is 64-bit; AlexeyAB's rule unless read with <see cref="DarknetDialect.Pjreddie"/>.</summary>
    public bool SeenIs64Bit { get; init; } = SeenIs64BitIn(DarknetDialect.AlexeyAB, Major, Minor);

    public int ByteLength => SeenIs64Bit ? 20 : 16;

    /// <summary>Darknet stores [connected] weights transposed when either version exceeds 1000.</summary>
    public bool TransposedConnected => Major > 1000 || Minor > 1000;

    /// <summary>The width of <c>seen</c> as each dialect's <c>load_weights</c> decides it.</summary>
    public static bool SeenIs64BitIn(DarknetDialect dialect, int major, int minor) =>
        (major * 10L) + minor >= 2 && (dialect == DarknetDialect.AlexeyAB || (major < 1000 && minor < 1000));

    public static DarknetWeightsHeader Read(string path, ReadOnlySpan<byte> bytes, long fileLength) =>
        Read(path, bytes, fileLength, DarknetDialect.AlexeyAB);

    public static DarknetWeightsHeader Read(string path, ReadOnlySpan<byte> bytes, long fileLength, DarknetDialect dialect)
    {
        var where = new SourceLocation(path);
        if (fileLength < 16 || bytes.Length < 16)
        {
            throw DiagnosticCodes.WeightsBadHeader.Exception(where,
                $"'{path}' has {fileLength} bytes; a Darknet weights file starts with a 16- or 20-byte header.");
        }

        var major = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var minor = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        var revision = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        if (major < 0 || minor < 0 || revision < 0)
        {
            throw DiagnosticCodes.WeightsBadHeader.Exception(where,
                $"'{path}' header has version {major}.{minor}.{revision}; negative numbers mean this is not a Darknet weights file.");
        }

        // Darknet decides the width of seen from major*10 + minor in a C int; where that overflows
        // its answer is undefined, and no darknet release has such a version.
        if ((major * 10L) + minor > int.MaxValue)
        {
            throw DiagnosticCodes.WeightsBadHeader.Exception(where,
                $"'{path}' header has version {major}.{minor}.{revision}; darknet reads the header's layout from major*10 + minor, which overflows 32 bits here. This is not a Darknet weights file.");
        }

        var header = new DarknetWeightsHeader(major, minor, revision, 0) { SeenIs64Bit = SeenIs64BitIn(dialect, major, minor) };
        if (header.SeenIs64Bit)
        {
            if (fileLength < 20 || bytes.Length < 20)
            {
                throw DiagnosticCodes.WeightsBadHeader.Exception(where, $"'{path}' has {fileLength} bytes, shorter than its 20-byte header.");
            }

            return header with { Seen = BinaryPrimitives.ReadUInt64LittleEndian(bytes[12..]) };
        }

        return header with { Seen = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]) };
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, Major);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Minor);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], Revision);
        if (SeenIs64Bit)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[12..], Seen);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], checked((uint)Seen));
        }
    }
}
