using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Maps a .weights file onto the graph's initializers without reading the floats: the layout is
/// computed from the cfg, checked against the file's length (nothing is allocated from sizes the
/// file cannot back), and each initializer gets a lazy <see cref="FileSliceData"/>.
/// </summary>
internal static class DarknetWeightsReader
{
    public static DarknetWeightsHeader Attach(string path, Graph graph, IReadOnlyList<DarknetLayer> layers, DarknetDialect dialect)
    {
        if (!File.Exists(path))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), $"Darknet weights '{path}' do not exist.");
        }

        var length = new FileInfo(path).Length;
        Span<byte> headerBytes = stackalloc byte[20];
        int got;
        using (var stream = File.OpenRead(path))
        {
            got = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        }

        var header = DarknetWeightsHeader.Read(path, headerBytes[..got], length, dialect);
        long offset = header.ByteLength;
        foreach (var layer in layers)
        {
            foreach (var name in layer.StoredTensors)
            {
                var initializer = graph.Initializers[name];
                var count = initializer.Shape.ElementCount;
                var bytes = Checked.Mul(count, sizeof(float));
                if (Checked.Add(offset, bytes) > length)
                {
                    var needed = RequiredBytes(header, graph, layers);
                    throw DiagnosticCodes.WeightsTruncated.Exception(new SourceLocation(path),
                        string.Create(CultureInfo.InvariantCulture,
                            $"'{Path.GetFileName(path)}' has {length:N0} bytes but the cfg needs {needed:N0} (expected {needed:N0}, actual {length:N0}). " +
                            $"Layer {layer.Index} [{layer.Section.Type}] at {layer.Section.Location} is the first to run out: its {Role(name)} needs bytes {offset:N0}..{offset + bytes:N0}."));
                }

                initializer.Data = new FileSliceData(path, offset, count);
                offset += bytes;
            }
        }

        if (offset != length)
        {
            throw DiagnosticCodes.WeightsOversized.Exception(new SourceLocation(path),
                string.Create(CultureInfo.InvariantCulture,
                    $"'{Path.GetFileName(path)}' has {length:N0} bytes but the cfg needs {offset:N0} (expected {offset:N0}, actual {length:N0}); " +
                    $"{length - offset:N0} bytes are left after the last layer. The weights belong to a different cfg, or the cfg lost layers."));
        }

        return header;
    }

    /// <summary>Bytes a weights file for this cfg holds: header plus every stored tensor.</summary>
    public static long RequiredBytes(DarknetWeightsHeader header, Graph graph, IReadOnlyList<DarknetLayer> layers)
    {
        long total = header.ByteLength;
        foreach (var name in layers.SelectMany(l => l.StoredTensors))
        {
            total = Checked.Add(total, Checked.Mul(graph.Initializers[name].Shape.ElementCount, sizeof(float)));
        }

        return total;
    }

    private static string Role(string initializerName) => initializerName[(initializerName.IndexOf('/', StringComparison.Ordinal) + 1)..];
}
