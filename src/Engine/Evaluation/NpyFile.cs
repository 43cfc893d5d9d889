using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Evaluation;

/// <summary>
/// Reads one NumPy <c>.npy</c> tensor (format versions 1.0, 2.0 and 3.0): the magic
/// <c>\x93NUMPY</c>, a version, a header length (2 bytes in 1.0, 4 after), and a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }</c>, then the data in C
/// order. Little-endian float32 is read as it is; float64 and uint8 are converted to float32. The
/// header's length and the data's size are checked against the file's length before anything is
/// allocated. A file that is not a well-formed .npy is NM0375; a well-formed one NeuralBuild does not
/// read (another dtype, big-endian, Fortran order) is NM0376.
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The header dict's length limit: numpy writes a few hundred bytes; anything near this is not a header.</summary>
    private const int MaxHeaderLength = 1 << 20;

    public static Tensor Read(string path) => FileFailures.Reading(path, () =>
    {
        using (Checked.At(new SourceLocation(path)))
        {
            return ReadFile(path);
        }
    });

    private static Tensor ReadFile(string path)
    {
        var where = new SourceLocation(path);
        using var stream = File.OpenRead(path);
        var length = stream.Length;
        Span<byte> preamble = stackalloc byte[12];
        var got = stream.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false);
        if (got < 10 || !preamble[..6].SequenceEqual(Magic))
        {
            throw DiagnosticCodes.NpyMalformed.Exception(where, "not a .npy file: it does not start with the magic \\x93NUMPY.");
        }

        int major = preamble[6], minor = preamble[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw DiagnosticCodes.NpyUnsupported.Exception(where, $".npy format version {major}.{minor}: NeuralBuild reads versions 1.0, 2.0 and 3.0.");
        }

        var lengthBytes = major == 1 ? 2 : 4;
        if (got < 8 + lengthBytes)
        {
            throw DiagnosticCodes.NpyMalformed.Exception(where, $"the file ends ({length} bytes) inside its header length.");
        }

        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        var dataStart = 8 + lengthBytes + headerLength;
        if (headerLength > MaxHeaderLength || dataStart > length)
        {
            throw DiagnosticCodes.NpyMalformed.Exception(where, $"the header states {headerLength} bytes but the file has {length} bytes.");
        }

        var headerBytes = new byte[headerLength];
        stream.Position = 8 + lengthBytes;
        stream.ReadExactly(headerBytes);
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header, where);
        var elementSize = descr switch
        {
            "<f4" => 4,
            "<f8" => 8,
            "|u1" or "<u1" or ">u1" => 1,
            _ => throw DiagnosticCodes.NpyUnsupported.Exception(where,
                $"dtype '{descr}': NeuralBuild reads little-endian float32 ('<f4'), float64 ('<f8') and uint8 ('|u1'); save with arr.astype('<f4').")
        };
        if (fortran)
        {
            throw DiagnosticCodes.NpyUnsupported.Exception(where, "the array is in Fortran order: save it in C order (np.ascontiguousarray(arr)).");
        }

        var count = Checked.Product(shape.Dims.ToArray());
        var dataBytes = Checked.Mul(count, elementSize);
        if (dataBytes != length - dataStart)
        {
            throw DiagnosticCodes.NpyMalformed.Exception(where,
                $"shape ({string.Join(", ", shape.Dims)}) of '{descr}' is {dataBytes} bytes of data, but the file holds {length - dataStart} after its header.");
        }

        Tensor.RequireExecutable(shape, where, "the .npy tensor");
        var values = new float[count];
        stream.Position = dataStart;
        ReadValues(stream, values, elementSize);
        return new Tensor(shape, values);
    }

    /// <summary>Streams the data in chunks, converting each element to float32.</summary>
    private static void ReadValues(Stream stream, float[] values, int elementSize)
    {
        var buffer = new byte[Math.Min(1 << 16, Math.Max(elementSize, values.Length * elementSize))];
        var at = 0;
        while (at < values.Length)
        {
            var take = Math.Min(buffer.Length / elementSize, values.Length - at);
            var span = buffer.AsSpan(0, take * elementSize);
            stream.ReadExactly(span);
            for (var i = 0; i < take; i++)
            {
                values[at + i] = elementSize switch
                {
                    4 => BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]),
                    8 => (float)BinaryPrimitives.ReadDoubleLittleEndian(span[(i * 8)..]),
                    _ => span[i],
                };
            }

            at += take;
        }
    }

    private static (string Descr, bool Fortran, Shape Shape) ParseHeader(string header, SourceLocation where)
    {
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!header.TrimStart().StartsWith('{') || !descr.Success || !fortran.Success || !shape.Success)
        {
            throw DiagnosticCodes.NpyMalformed.Exception(where,
                $"the header '{header.Trim()}' is not the dict numpy writes ({{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }}).");
        }

        var dims = new List<long>();
        foreach (var part in shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var dim))
            {
                throw DiagnosticCodes.NpyMalformed.Exception(where, $"shape entry '{part}' is not a size.");
            }

            dims.Add(dim);
        }

        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", new Shape([.. dims]));
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
