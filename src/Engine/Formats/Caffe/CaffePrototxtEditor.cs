using System.Text;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// The prototxt of a Caffe model after passes: the original text edited in place at the positions
/// the reader's source map recorded (removed layers cut out with their lines, strings and numbers
/// replaced), so comments and layout survive and the diff shows only what changed. The edited text
/// is parsed back and compared with the message it must mean; when they differ (a layout the editor
/// does not handle) the whole file is written by <see cref="PrototxtWriter"/>.
/// </summary>
internal static class CaffePrototxtEditor
{
    public static string Rewrite(CaffeModel document, CaffeEdits edits, Graph graph)
    {
        var expected = Expected(document, edits, graph);
        var original = File.Exists(document.PrototxtPath) ? File.ReadAllText(document.PrototxtPath) : null;
        if (original is not null && TryEditText(original, document, edits, graph) is { } edited)
        {
            try
            {
                var reparsed = PrototxtReader.Parse<NetParameter>(document.PrototxtPath, edited, out _);
                if (reparsed.Equals(expected))
                {
                    return edited;
                }
            }
            catch (Diagnostics.NeuralException)
            {
                // Fall through to a full rewrite.
            }
        }

        return PrototxtWriter.Write(expected);
    }

    /// <summary>The prototxt message the output must parse to.</summary>
    private static NetParameter Expected(CaffeModel document, CaffeEdits edits, Graph graph)
    {
        var net = document.Net.Clone();
        IMessage Twin(IMessage source)
        {
            for (var i = 0; i < document.Net.Layer.Count; i++)
            {
                if (ReferenceEquals(document.Net.Layer[i], source))
                {
                    return net.Layer[i];
                }
            }

            for (var i = 0; i < document.Net.Layers.Count; i++)
            {
                if (ReferenceEquals(document.Net.Layers[i], source))
                {
                    return net.Layers[i];
                }
            }

            throw new InvalidOperationException("a layer of the document is not in its network.");
        }

        foreach (var (layer, index, blob) in edits.Bottoms)
        {
            switch (Twin(layer.Source))
            {
                case LayerParameter p: p.Bottom[index] = blob; break;
                case V1LayerParameter v: v.Bottom[index] = blob; break;
            }
        }

        foreach (var (layer, index, blob) in edits.Tops)
        {
            switch (Twin(layer.Source))
            {
                case LayerParameter p: p.Top[index] = blob; break;
                case V1LayerParameter v: v.Top[index] = blob; break;
            }
        }

        foreach (var (layer, name) in edits.Names)
        {
            switch (Twin(layer.Source))
            {
                case LayerParameter p: p.Name = name; break;
                case V1LayerParameter v: v.Name = name; break;
            }
        }

        foreach (var (layer, _, gained) in edits.Rewritten.Where(r => r.GainedBias))
        {
            switch (Twin(layer.Source))
            {
                case LayerParameter { ConvolutionParam: { } c }: c.BiasTerm = true; break;
                case LayerParameter { InnerProductParam: { } ip }: ip.BiasTerm = true; break;
                case V1LayerParameter { ConvolutionParam: { } c }: c.BiasTerm = true; break;
                case V1LayerParameter { InnerProductParam: { } ip }: ip.BiasTerm = true; break;
            }
        }

        foreach (var (layer, field, value) in edits.Counts)
        {
            switch (CaffeEdits.LayerParameters(Twin(layer.Source)))
            {
                case ConvolutionParameter c when field == 1: c.NumOutput = value; break;
                case ConvolutionParameter c: c.Group = value; break;
                case InnerProductParameter ip: ip.NumOutput = value; break;
            }
        }

        foreach (var (layer, parameters, field, index, value) in edits.Restated)
        {
            CaffeEdits.SetNumber(parameters((LayerParameter)Twin(layer.Source))!, field, index, value);
        }

        foreach (var (before, node) in edits.Added)
        {
            var twin = (LayerParameter)Twin(before.Source);
            net.Layer.Insert(net.Layer.IndexOf(twin), CaffeEdits.AddedLayer(document, graph, node));
        }

        var removed = edits.Removed.Select(l => Twin(l.Source)).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var message in removed)
        {
            switch (message)
            {
                case LayerParameter p: net.Layer.Remove(p); break;
                case V1LayerParameter v: net.Layers.Remove(v); break;
            }
        }

        return net;
    }

    /// <summary>Edits the original text at the positions the source map recorded; null when a position is missing.</summary>
    private static string? TryEditText(string text, CaffeModel document, CaffeEdits edits, Graph graph)
    {
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                lineStarts.Add(i + 1);
            }
        }

        int? Offset(Diagnostics.SourceLocation location) =>
            location.Line >= 1 && location.Line <= lineStarts.Count && location.Column >= 1 ? lineStarts[location.Line - 1] + location.Column - 1 : null;

        var replacements = new List<(int Start, int End, string Text)>();
        var map = document.SourceMap;
        var strings = edits.Bottoms.Select(b => (b.Layer, Field: "bottom", b.Index, Text: b.Blob))
            .Concat(edits.Tops.Select(t => (t.Layer, Field: "top", t.Index, Text: t.Blob)))
            .Concat(edits.Names.Select(n => (n.Layer, Field: "name", Index: 0, Text: n.Name)));
        foreach (var (layer, field, index, value) in strings)
        {
            var at = Offset(map.Of(layer.Source, field, index));
            if (at is not { } start || StringEnd(text, start) is not { } end)
            {
                return null;
            }

            replacements.Add((start, end, Quote(value)));
        }

        foreach (var (layer, field, value) in edits.Counts)
        {
            // A count left at its default (group: 1) is not in the text: the full writer states it.
            var parameters = CaffeEdits.LayerParameters(layer.Source);
            if (parameters is null || !map.Written(parameters, field) || Offset(map.Of(parameters, field)) is not { } start)
            {
                return null;
            }

            var end = start;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            replacements.Add((start, end, value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        foreach (var (layer, parameters, field, index, value) in edits.Restated)
        {
            var message = parameters((LayerParameter)layer.Source);
            if (!map.Written(message, field) || Offset(map.Of(message, field, index)) is not { } start)
            {
                return null;
            }

            var end = start;
            while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '-'))
            {
                end++;
            }

            replacements.Add((start, end, value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        foreach (var (layer, _, _) in edits.Rewritten.Where(r => r.GainedBias))
        {
            var parameters = CaffeEdits.LayerParameters(layer.Source);
            if (parameters is null || !map.Written(parameters, 2) || Offset(map.Of(parameters, 2)) is not { } start)
            {
                return null;
            }

            var end = start;
            while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }

            replacements.Add((start, end, "true"));
        }

        foreach (var (before, node) in edits.Added)
        {
            // On its own line before the layer that reads it, indented like it.
            if (Offset(map.Of(before.Source)) is not { } start)
            {
                return null;
            }

            var lineStart = start;
            while (lineStart > 0 && text[lineStart - 1] is ' ' or '\t')
            {
                lineStart--;
            }

            var added = CaffeEdits.AddedLayer(document, graph, node);
            var newLine = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
            replacements.Add((start, start, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"layer {{ name: {Quote(added.Name)} type: \"InnerProduct\" bottom: {Quote(added.Bottom[0])} top: {Quote(added.Top[0])} inner_product_param {{ num_output: {added.InnerProductParam.NumOutput} }} }}{newLine}{text[lineStart..start]}")));
        }

        foreach (var layer in edits.Removed)
        {
            if (Offset(map.Of(layer.Source)) is not { } start || BlockEnd(text, start) is not { } end)
            {
                return null;
            }

            // Take whole lines when the layer has them to itself.
            var lineStart = start;
            while (lineStart > 0 && text[lineStart - 1] is ' ' or '\t')
            {
                lineStart--;
            }

            var lineEnd = end;
            while (lineEnd < text.Length && text[lineEnd] is ' ' or '\t' or '\r')
            {
                lineEnd++;
            }

            if ((lineStart == 0 || text[lineStart - 1] == '\n') && (lineEnd == text.Length || text[lineEnd] == '\n'))
            {
                (start, end) = (lineStart, Math.Min(lineEnd + 1, text.Length));
            }

            replacements.Add((start, end, string.Empty));
        }

        replacements.Sort((a, b) => b.Start.CompareTo(a.Start));
        var sb = new StringBuilder(text);
        var previousStart = int.MaxValue;
        foreach (var (start, end, replacement) in replacements)
        {
            if (end > previousStart)
            {
                return null; // Overlapping edits: let the full writer do it.
            }

            sb.Remove(start, end - start).Insert(start, replacement);
            previousStart = start;
        }

        return sb.ToString();
    }

    /// <summary>The end (exclusive) of the quoted string starting at <paramref name="start"/>.</summary>
    private static int? StringEnd(string text, int start)
    {
        if (start >= text.Length || text[start] is not ('"' or '\''))
        {
            return null;
        }

        var quote = text[start];
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i + 1;
            }
            else if (text[i] == '\n')
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The end (exclusive) of the message field named at <paramref name="start"/> (<c>layer { … }</c>).</summary>
    private static int? BlockEnd(string text, int start)
    {
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '#')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c is '"' or '\'')
            {
                if (StringEnd(text, i) is not { } end)
                {
                    return null;
                }

                i = end - 1;
            }
            else if (c is '{' or '<')
            {
                depth++;
            }
            else if (c is '}' or '>')
            {
                if (--depth == 0)
                {
                    return i + 1;
                }
            }
        }

        return null;
    }

    private static string Quote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}
