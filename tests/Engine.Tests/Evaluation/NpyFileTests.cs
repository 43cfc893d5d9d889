using System.Text;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>The .npy reader against files numpy writes (every format version, the converted dtypes), and bad files as codes.</summary>
[TestClass]
public sealed class NpyFileTests
{
    [TestMethod]
    public void Reads_what_numpy_writes_in_format_versions_1_2_and_3_in_C_order()
    {
        using var temp = new TempDirectory();
        // Element (n, c, h, w) holds n*1000 + c*100 + h*10 + w - 0.5: every value names its own position.
        PythonScript.Run(temp.Path, """
            import numpy as np
            from numpy.lib import format as f
            a = np.fromfunction(lambda n, c, h, w: n*1000 + c*100 + h*10 + w - 0.5, (2, 3, 4, 5)).astype('<f4')
            for v in [(1, 0), (2, 0), (3, 0)]:
                with open(f'v{v[0]}.npy', 'wb') as out:
                    f.write_array(out, a, version=v)
            """);

        foreach (var version in new[] { 1, 2, 3 })
        {
            var tensor = NpyFile.Read(temp.Combine($"v{version}.npy"));
            Assert.AreEqual(new Shape(2, 3, 4, 5), tensor.Shape, $"version {version}");
            Assert.AreEqual(-0.5f, tensor.Data[0]);
            Assert.AreEqual(122.5f, tensor.Data[(1 * 20) + (2 * 5) + 3], $"version {version}: element (0, 1, 2, 3) is 123 - 0.5, at 1*20 + 2*5 + 3 in C order");
            Assert.AreEqual(1233.5f, tensor.Data[(1 * 60) + (2 * 20) + (3 * 5) + 4], $"version {version}: element (1, 2, 3, 4) is 1234 - 0.5, the last");
        }
    }

    [TestMethod]
    public void Float64_and_uint8_are_converted_to_float32()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, """
            import numpy as np
            np.save('f8.npy', np.array([[0.1, -2.5], [1e10, 3.0]], dtype='<f8'))
            np.save('u1.npy', np.array([0, 1, 128, 255], dtype=np.uint8))
            """);

        var f8 = NpyFile.Read(temp.Combine("f8.npy"));
        CollectionAssert.AreEqual(new[] { 0.1f, -2.5f, 1e10f, 3f }, f8.Data);
        Assert.AreEqual(new Shape(2, 2), f8.Shape);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 128f, 255f }, NpyFile.Read(temp.Combine("u1.npy")).Data);
    }

    [TestMethod]
    public void Unsupported_dtypes_byte_order_and_Fortran_order_are_NM0376()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, """
            import numpy as np
            np.save('i4.npy', np.arange(4, dtype='<i4'))
            np.save('big.npy', np.arange(4, dtype='>f4'))
            np.save('fortran.npy', np.asfortranarray(np.ones((2, 3), dtype='<f4')))
            """);

        StringAssert.Contains(DiagnosticAssert.Throws(DiagnosticCodes.NpyUnsupported, () => NpyFile.Read(temp.Combine("i4.npy"))).Message, "dtype '<i4'");
        StringAssert.Contains(DiagnosticAssert.Throws(DiagnosticCodes.NpyUnsupported, () => NpyFile.Read(temp.Combine("big.npy"))).Message, "dtype '>f4'");
        StringAssert.Contains(DiagnosticAssert.Throws(DiagnosticCodes.NpyUnsupported, () => NpyFile.Read(temp.Combine("fortran.npy"))).Message, "Fortran order");
    }

    [TestMethod]
    public void A_truncated_file_or_a_lying_header_is_NM0375_before_anything_is_allocated()
    {
        using var temp = new TempDirectory();
        // A header stating 100000 x 100000 floats (40 GB) over 16 bytes of data: refused by the length check.
        var huge = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", new byte[16]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.NpyMalformed, () => NpyFile.Read(temp.Write("huge.npy", huge)));
        StringAssert.Contains(error.Message, "40000000000 bytes of data, but the file holds 16");
        Assert.AreEqual(temp.Combine("huge.npy"), error.Location.File);

        DiagnosticAssert.Throws(DiagnosticCodes.NpyMalformed, () => NpyFile.Read(temp.Write("short.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[8]))));
        DiagnosticAssert.Throws(DiagnosticCodes.NpyMalformed, () => NpyFile.Read(temp.Write("text.npy", Encoding.ASCII.GetBytes("hello, world"))));
        DiagnosticAssert.Throws(DiagnosticCodes.NpyMalformed, () => NpyFile.Read(temp.Write("dict.npy", Npy("{'descr': '<f4', 'shape': (1,), }", new byte[4]))));
        DiagnosticAssert.Throws(DiagnosticCodes.NpyMalformed, () => NpyFile.Read(temp.Write("negative.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new byte[4]))));
        // The header length field itself points past the end of the file.
        byte[] lengthPastEnd = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0xFF, 0xFF, (byte)'{'];
        DiagnosticAssert.Throws(DiagnosticCodes.NpyMalformed, () => NpyFile.Read(temp.Write("length.npy", lengthPastEnd)));
        byte[] version9 = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 9, 0, 0, 0, 0, 0];
        DiagnosticAssert.Throws(DiagnosticCodes.NpyUnsupported, () => NpyFile.Read(temp.Write("v9.npy", version9)));
    }

    [TestMethod]
    public void Mutated_files_end_in_a_tensor_or_a_coded_error_never_another_exception()
    {
        using var temp = new TempDirectory();
        PythonScript.Run(temp.Path, "import numpy as np; np.save('seed.npy', np.arange(24, dtype='<f4').reshape(2, 3, 4))");
        var seed = File.ReadAllBytes(temp.Combine("seed.npy"));
        var random = new Random(1234);
        for (var i = 0; i < 400; i++)
        {
            var bytes = (byte[])seed.Clone();
            switch (i % 4)
            {
                case 0:
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    // In the header: the length field, the dict, its digits.
                    bytes[random.Next(Math.Min(bytes.Length, 128))] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                default:
                    var header = Encoding.ASCII.GetString(bytes, 10, 118).Replace("(2, 3, 4)", $"({random.Next(-5, int.MaxValue)}, {random.NextInt64()})", StringComparison.Ordinal);
                    bytes = Npy(header.TrimEnd(), new byte[random.Next(200)]);
                    break;
            }

            var path = temp.Write($"m{i}.npy", bytes);
            try
            {
                NpyFile.Read(path);
            }
            catch (NeuralException)
            {
                // Coded: what bad input must end in.
            }
        }
    }

    /// <summary>A version 1.0 file: the magic, the version, the header's length and the header, then <paramref name="data"/>.</summary>
    internal static byte[] Npy(string header, byte[] data)
    {
        var text = Encoding.ASCII.GetBytes(header + "\n");
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(text.Length & 0xFF), (byte)(text.Length >> 8) };
        bytes.AddRange(text);
        bytes.AddRange(data);
        return [.. bytes];
    }
}
