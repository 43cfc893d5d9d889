using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Collections;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Reads a .caffemodel (a binary NetParameter) and attaches its blobs to the graph's initializers.
/// <list type="number">
/// <item>A wire-level scan first walks the records (net → layers → blobs) and checks every declared
/// length against the enclosing record and the file's length before anything is read or allocated,
/// so a cut-short file is NM0130 naming the layer and blob where it ends, and garbage is NM0131.</item>
/// <item>Google.Protobuf then parses the message; fields outside NeuralBuild's caffe.proto subset
/// are kept as unknown fields, so the message re-serialises with them.</item>
/// <item>Layers are matched by name, as Caffe's CopyTrainedLayersFrom does (caffemodel layers the
/// TEST network does not use are ignored). A layer with parameters but no caffemodel layer of its
/// name is NM0132; a different blob count NM0133; a blob whose shape differs NM0134 (Caffe's rule:
/// <c>shape</c> must match exactly; legacy num/channels/height/width match the expected shape
/// padded with leading 1s to four axes).</item>
/// </list>
/// </summary>
internal static class CaffemodelReader
{
    public static NetParameter Attach(string path, CaffeModel model, Graph graph)
    {
        if (!File.Exists(path))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), $"Caffe weights '{path}' do not exist.");
        }

        var length = new FileInfo(path).Length;
        if (length == 0)
        {
            throw DiagnosticCodes.CaffemodelTruncated.Exception(new SourceLocation(path), $"'{Path.GetFileName(path)}' is empty (0 bytes); a caffemodel holds the trained layers.");
        }

        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            new WireScan(stream, length, path).Net();
        }

        NetParameter weights;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            weights = ProtobufParsing.Parse(() => NetParameter.Parser.ParseFrom(stream), DiagnosticCodes.CaffemodelMalformed, path,
                why => $"'{Path.GetFileName(path)}' is not a Caffe NetParameter: {why}");
        }

        Match(path, weights, model, graph);
        return weights;
    }

    private static void Match(string path, NetParameter weights, CaffeModel model, Graph graph)
    {
        var file = Path.GetFileName(path);
        var sources = new Dictionary<string, (IMessage Message, RepeatedField<BlobProto> Blobs)>(StringComparer.Ordinal);
        foreach (var layer in weights.Layer)
        {
            sources.TryAdd(layer.Name, (layer, layer.Blobs));
        }

        foreach (var layer in weights.Layers)
        {
            sources.TryAdd(layer.Name, (layer, layer.Blobs));
        }

        foreach (var layer in model.Layers.Where(l => l.Blobs.Count > 0))
        {
            var name = layer.Layer.Name;
            if (!sources.TryGetValue(name, out var source))
            {
                var names = sources.Keys.Take(6).ToList();
                var listed = sources.Count == 0 ? "it has no layers" : $"its {sources.Count} layers are named {string.Join(", ", names.Select(n => $"'{n}'"))}{(sources.Count > names.Count ? ", …" : string.Empty)}";
                throw DiagnosticCodes.CaffemodelMissingLayer.Exception(layer.Origin.Location,
                    $"'{file}' has no layer named '{name}', so the {layer.Layer.Type} layer's parameters have no values; {listed}. The weights belong to a different network, or the layer was renamed.");
            }

            layer.WeightsSource = source.Message;
            var expected = layer.Blobs.Max(b => b.Index) + 1;
            if (source.Blobs.Count != expected)
            {
                throw DiagnosticCodes.CaffemodelBlobCount.Exception(layer.Origin.Location,
                    $"layer '{name}' has {source.Blobs.Count} blob(s) in '{file}' but the prototxt's {layer.Layer.Type} needs {expected} ({string.Join(", ", layer.Blobs.OrderBy(b => b.Index).Select(b => b.Role))}); check bias_term and the layer kind.");
            }

            foreach (var slot in layer.Blobs)
            {
                var blob = source.Blobs[slot.Index];
                if (!ShapeEquals(blob, slot.Shape))
                {
                    throw DiagnosticCodes.CaffemodelBlobShape.Exception(layer.Origin.Location,
                        $"blob {slot.Index} ({slot.Role}) of layer '{name}' is {Describe(blob)} in '{file}' but the prototxt needs {slot.Shape} (expected {slot.Shape}, actual {Describe(blob)}).");
                }

                var stored = CaffeBlobData.Count(blob);
                var declared = slot.Shape.ElementCount;
                if (stored != declared)
                {
                    throw DiagnosticCodes.CaffemodelMalformed.Exception(layer.Origin.Location,
                        string.Create(CultureInfo.InvariantCulture, $"blob {slot.Index} ({slot.Role}) of layer '{name}' in '{file}' has the shape {Describe(blob)} ({declared:N0} values) but holds {stored:N0}."));
                }
            }

            var factor = layer.Layer.Type == "BatchNorm" ? source.Blobs[2] : null;
            foreach (var slot in layer.Blobs.Where(s => s.Initializer is not null))
            {
                var initializer = graph.Initializers[slot.Initializer!];
                initializer.Data ??= new CaffeBlobData(source.Blobs[slot.Index], factor);
            }
        }
    }

    /// <summary>Caffe's Blob::ShapeEquals.</summary>
    internal static bool ShapeEquals(BlobProto blob, Shape expected)
    {
        if (blob.HasNum || blob.HasChannels || blob.HasHeight || blob.HasWidth)
        {
            if (blob.Shape is not null && blob.Shape.Dim.Count > 0)
            {
                return blob.Shape.Dim.SequenceEqual(expected.Dims);
            }

            if (expected.Rank > 4)
            {
                return false;
            }

            var padded = Enumerable.Repeat(1L, 4 - expected.Rank).Concat(expected.Dims).ToArray();
            return padded[0] == blob.Num && padded[1] == blob.Channels && padded[2] == blob.Height && padded[3] == blob.Width;
        }

        return blob.Shape is not null && blob.Shape.Dim.SequenceEqual(expected.Dims);
    }

    private static string Describe(BlobProto blob) =>
        blob.Shape is { Dim.Count: > 0 } shape ? string.Join('x', shape.Dim)
        : blob.HasNum || blob.HasChannels || blob.HasHeight || blob.HasWidth ? $"{blob.Num}x{blob.Channels}x{blob.Height}x{blob.Width} (legacy num x channels x height x width)"
        : "without a shape";

    /// <summary>
    /// Walks the protobuf wire records of the file without materialising them: every length is
    /// checked against the record that contains it before it is skipped or entered.
    /// </summary>
    private sealed class WireScan(Stream stream, long fileLength, string path)
    {
        private readonly List<string> _context = [];
        private long _needed;

        public void Net() => Message(fileLength, Record.Net);

        private enum Record
        {
            Net,
            Layer,
            V1Layer,
            Blob,
        }

        private void Message(long end, Record record)
        {
            var layers = 0;
            var blobs = 0;
            while (stream.Position < end)
            {
                var tagAt = stream.Position;
                var tag = Varint();
                var field = tag >> 3;
                var wire = (int)(tag & 7);
                if (field == 0)
                {
                    throw Malformed(tagAt, "a record has field number 0");
                }

                switch (wire)
                {
                    case 0:
                        Varint();
                        break;
                    case 1:
                        Skip(8);
                        break;
                    case 5:
                        Skip(4);
                        break;
                    case 2:
                    {
                        var lengthAt = stream.Position;
                        var length = Varint();
                        var start = stream.Position;
                        if (length > (ulong)(end - start))
                        {
                            // Past the end of the file at the top level: the file was cut short
                            // (entered anyway, to name the layer and blob it ends in). Past the end
                            // of an enclosing record: the bytes are not a NetParameter.
                            if (end != fileLength)
                            {
                                throw Malformed(lengthAt, string.Create(CultureInfo.InvariantCulture,
                                    $"field {field} declares {length:N0} bytes, more than the {end - start:N0} left in the record that holds it"));
                            }

                            _needed = length > (ulong)(long.MaxValue - start) ? long.MaxValue : start + (long)length;
                        }

                        var childEnd = length > (ulong)(long.MaxValue - start) ? long.MaxValue : start + (long)length;
                        Record? child = (record, field) switch
                        {
                            (Record.Net, 100) => Record.Layer,
                            (Record.Net, 2) => Record.V1Layer,
                            (Record.Layer, 7) or (Record.V1Layer, 6) => Record.Blob,
                            _ => null,
                        };

                        if (child is { } kind)
                        {
                            _context.Add(kind == Record.Blob ? $"blob {blobs++}" : $"layer record {++layers}");
                            Message(childEnd, kind);
                            _context.RemoveAt(_context.Count - 1);
                        }
                        else if ((record, field) is (Record.Layer, 1) or (Record.V1Layer, 4) && length < 4096 && childEnd <= fileLength)
                        {
                            var bytes = new byte[length];
                            stream.ReadExactly(bytes);
                            _context[^1] += $" '{System.Text.Encoding.UTF8.GetString(bytes)}'";
                        }
                        else
                        {
                            Skip(childEnd - start);
                        }

                        break;
                    }

                    default:
                        throw Malformed(tagAt, $"wire type {wire} (field {field}) is not used by Caffe's messages");
                }
            }

            if (stream.Position > end)
            {
                throw Malformed(end, "a value runs past the end of the record that holds it");
            }
        }

        private ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0)
                {
                    throw Truncated(stream.Position + 1);
                }

                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw Malformed(stream.Position, "a varint is longer than 10 bytes");
        }

        private void Skip(long count)
        {
            if (stream.Position + count > fileLength)
            {
                throw Truncated(stream.Position + count);
            }

            stream.Seek(count, SeekOrigin.Current);
        }

        private string Where => _context.Count == 0 ? "the net" : string.Join(", ", _context);

        private NeuralException Truncated(long neededAt)
        {
            var needed = Math.Max(_needed, neededAt);
            return DiagnosticCodes.CaffemodelTruncated.Exception(new SourceLocation(path),
                string.Create(CultureInfo.InvariantCulture,
                    $"'{Path.GetFileName(path)}' is truncated: it ends at byte {fileLength:N0} inside {Where}, whose data runs to byte {needed:N0} (expected at least {needed:N0} bytes, actual {fileLength:N0}). The download or copy was cut short; fetch the file again."));
        }

        private NeuralException Malformed(long at, string what) =>
            DiagnosticCodes.CaffemodelMalformed.Exception(new SourceLocation(path),
                string.Create(CultureInfo.InvariantCulture,
                    $"'{Path.GetFileName(path)}' is not a Caffe NetParameter: at byte {at:N0} ({Where}) {what}. Is it really a .caffemodel (binary), not a prototxt or another format?"));
    }
}
