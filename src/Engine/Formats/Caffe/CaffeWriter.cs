using System.Text;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Writes a Caffe model after passes: the prototxt and the caffemodel it was read from, edited only
/// where the graph changed.
/// <list type="bullet">
/// <item>A layer whose node a pass removed (BatchNorm, Scale, Dropout folded away) is dropped from
/// both files. The bottoms of the remaining layers are set to the blob of the IR value they now read
/// (nothing changes when BatchNorm and Scale were in place on the conv's top).</item>
/// <item>A conv / deconv / InnerProduct whose initializers a fold replaced gets its new weights and
/// bias blobs; when it gained a bias, its <c>bias_term: false</c> becomes <c>true</c>.</item>
/// <item>Prototxt: the text is edited in place (removed layers cut out with their lines, bottom
/// strings and the bias_term value replaced), so comments and layout survive and the diff shows
/// only what changed. The edited text is parsed back and compared with the intended message; if they
/// differ (a layout the editor does not handle) the whole file is written by <see cref="PrototxtWriter"/>.</item>
/// <item>Caffemodel: the message as read (unknown fields included) with those layers and blobs
/// changed, serialised by Google.Protobuf. Unchanged, it reproduces a canonically serialised file
/// (Caffe's own: fields in number order, packed floats) byte for byte.</item>
/// <item>Both go to <c>.tmp</c> files moved into place at the end; on failure the temps are deleted
/// and nothing is written.</item>
/// </list>
/// </summary>
internal static class CaffeWriter
{
    public static void Write(Model model, string definitionPath, string weightsPath)
    {
        var document = model.SourceDocument as CaffeModel
            ?? throw new InvalidOperationException($"Model '{model.DefinitionPath}' was not read by the Caffe reader; it has no Caffe document to rewrite.");
        var weights = document.Weights
            ?? throw new NotSupportedException($"Model '{model.DefinitionPath}' was opened without its caffemodel; a Caffe model is written with its weights.");
        var edits = Plan(model.Graph, document);
        var text = RewritePrototxt(document, edits, model.Graph);
        var newWeights = RewriteWeights(model.Graph, weights, edits);

        Save(definitionPath, text, weightsPath, newWeights);
    }

    /// <summary>Writes the prototxt text and the caffemodel message, both or neither (<see cref="AtomicFiles"/>).</summary>
    internal static void Save(string definitionPath, string text, string weightsPath, NetParameter weights) =>
        AtomicFiles.Write(
            (definitionPath, temp => File.WriteAllText(temp, text)),
            (weightsPath, temp =>
            {
                using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                weights.WriteTo(stream);
            }));

    /// <summary>What changes: layers dropped, bottoms renamed, producers with new blobs.</summary>
    private sealed class Edits
    {
        public List<CaffeLayer> Removed { get; } = [];

        public List<(CaffeLayer Layer, int Index, string Blob)> Bottoms { get; } = [];

        /// <summary>Tops whose value was renamed.</summary>
        public List<(CaffeLayer Layer, int Index, string Blob)> Tops { get; } = [];

        /// <summary>Layers renamed (their node's name changed).</summary>
        public List<(CaffeLayer Layer, string Name)> Names { get; } = [];

        /// <summary>Layers with new weights (and bias); <c>GainedBias</c> when the prototxt must say bias_term: true.</summary>
        public List<(CaffeLayer Layer, Node Node, bool GainedBias)> Rewritten { get; } = [];

        /// <summary>Nodes a pass made (the first factor of a low-rank InnerProduct), each written as a new InnerProduct layer just before <c>Before</c>.</summary>
        public List<(CaffeLayer Before, Node Node)> Added { get; } = [];

        /// <summary>Counts a pass changed (channel pruning): <c>num_output</c> (field 1 of the convolution and inner product parameters) and a convolution's <c>group</c> (field 5).</summary>
        public List<(CaffeLayer Layer, int Field, uint Value)> Counts { get; } = [];

        /// <summary>
        /// Numbers a pass restated (a class subset): value <c>Index</c> of field <c>Field</c> of the
        /// parameter message <c>Parameters</c> selects in the layer (a Reshape's dim, DetectionOutput's num_classes).
        /// </summary>
        public List<(CaffeLayer Layer, Func<LayerParameter, IMessage?> Parameters, int Field, int Index, long Value)> Restated { get; } = [];
    }

    private static Edits Plan(Graph graph, CaffeModel document)
    {
        var nodes = graph.Nodes.ToDictionary(n => n.SourceName, StringComparer.Ordinal);
        var edits = new Edits();
        PlanAdded(graph, document, edits);
        foreach (var layer in document.Layers)
        {
            if (layer.Node is null)
            {
                continue;
            }

            if (!nodes.TryGetValue(layer.Node, out var node))
            {
                edits.Removed.Add(layer);
                continue;
            }

            if (node.Name != node.SourceName && layer.Layer.Name == node.SourceName)
            {
                edits.Names.Add((layer, node.Name));
            }

            for (var i = 0; i < layer.Layer.Top.Count && i < node.Outputs.Count; i++)
            {
                var blob = document.BlobOfValue.GetValueOrDefault(node.Outputs[i], node.Outputs[i]);
                if (blob != layer.Layer.Top[i])
                {
                    edits.Tops.Add((layer, i, blob));
                }
            }

            for (var i = 0; i < layer.Layer.Bottom.Count && i < node.Inputs.Count; i++)
            {
                var value = node.Inputs[i];
                var blob = document.BlobOfValue.TryGetValue(value, out var b) ? b : value;
                if (value.Length > 0 && blob != layer.Layer.Bottom[i])
                {
                    edits.Bottoms.Add((layer, i, blob));
                }
            }

            PlanRestated(edits, layer, node);
            var changed = layer.Blobs.Where(s => s.Initializer is not null && !node.Inputs.Contains(s.Initializer)).ToList();
            var hasBias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0;
            var hadBias = layer.Blobs.Any(s => s.Index == 1);
            if (changed.Count == 0 && (hasBias == hadBias || node.OpType is not ("Conv" or "ConvTranspose" or "FullyConnected")))
            {
                continue;
            }

            if (node.OpType is not ("Conv" or "ConvTranspose" or "FullyConnected"))
            {
                throw new NotSupportedException($"layer '{layer.Layer.Name}' ({layer.Layer.Type}): a pass replaced its parameters; the Caffe writer rewrites only convolution, deconvolution and InnerProduct blobs.");
            }

            edits.Rewritten.Add((layer, node, hasBias && !hadBias));
            PlanCounts(edits, layer, node, graph);
        }

        return edits;
    }

    /// <summary>
    /// A node no layer stands for is the first factor of a low-rank InnerProduct (the only node the
    /// contract lets a pass make): it becomes an InnerProduct layer before the layer that reads it.
    /// </summary>
    private static void PlanAdded(Graph graph, CaffeModel document, Edits edits)
    {
        var ownNodes = document.Layers.Where(l => l.Node is not null).ToDictionary(l => l.Node!, StringComparer.Ordinal);
        var readers = graph.BuildConsumers();
        foreach (var node in graph.Nodes.Where(n => !ownNodes.ContainsKey(n.SourceName)))
        {
            var reader = readers.GetValueOrDefault(node.Outputs[0])?.SingleOrDefault();
            if (node.OpType != "FullyConnected" || reader is null || !ownNodes.TryGetValue(reader.SourceName, out var before) || before.Source is not LayerParameter)
            {
                throw new NotSupportedException($"node '{node.Name}' ({node.OpType}) was made by a pass; the Caffe writer adds only an InnerProduct read by one (non-V1) layer of the prototxt.");
            }

            edits.Added.Add((before, node));
        }
    }

    /// <summary>The InnerProduct layer of an added node, as the prototxt states it (blobs apart).</summary>
    private static LayerParameter AddedLayer(CaffeModel document, Graph graph, Node node)
    {
        var layer = new LayerParameter { Name = node.Name, Type = "InnerProduct", InnerProductParam = new InnerProductParameter { NumOutput = (uint)graph.Initializers[node.Inputs[1]].Shape[0] } };
        layer.Bottom.Add(document.BlobOfValue.GetValueOrDefault(node.Inputs[0], node.Inputs[0]));
        layer.Top.Add(node.Outputs[0]);
        return layer;
    }

    /// <summary>The num_output (and group) a pruned layer states, where they differ from the prototxt's.</summary>
    private static void PlanCounts(Edits edits, CaffeLayer layer, Node node, Graph graph)
    {
        var weights = graph.Initializers[node.Inputs[1]].Shape;
        var (outputs, group) = node.OpType switch
        {
            "Conv" => (weights[0], node.AttributesAs<ConvAttributes>().Group),
            "ConvTranspose" => (weights[1] * node.AttributesAs<ConvAttributes>().Group, node.AttributesAs<ConvAttributes>().Group),
            _ => (node.AttributesAs<FullyConnectedAttributes>().Transposed ? weights[1] : weights[0], 1L),
        };
        var (statedOutputs, statedGroup) = layer.Source switch
        {
            LayerParameter { ConvolutionParam: { } c } => (c.NumOutput, c.Group),
            V1LayerParameter { ConvolutionParam: { } c } => (c.NumOutput, c.Group),
            LayerParameter { InnerProductParam: { } ip } => (ip.NumOutput, 1u),
            V1LayerParameter { InnerProductParam: { } ip } => (ip.NumOutput, 1u),
            _ => ((uint)outputs, (uint)group),
        };
        if (statedOutputs != outputs)
        {
            edits.Counts.Add((layer, 1, (uint)outputs));
        }

        if (statedGroup != group)
        {
            edits.Counts.Add((layer, 5, (uint)group));
        }
    }

    /// <summary>A Reshape's dims and DetectionOutput's num_classes, where the node's attributes now differ from the layer's.</summary>
    private static void PlanRestated(Edits edits, CaffeLayer layer, Node node)
    {
        switch (node.OpType, layer.Source)
        {
            case ("Reshape", LayerParameter { ReshapeParam.Shape: { } shape }):
            {
                var dims = node.AttributesAs<ReshapeAttributes>().Shape;
                for (var i = 0; i < dims.Length && i < shape.Dim.Count; i++)
                {
                    if (dims[i] != shape.Dim[i])
                    {
                        edits.Restated.Add((layer, p => p.ReshapeParam.Shape, BlobShape.DimFieldNumber, i, dims[i]));
                    }
                }

                break;
            }

            case ("DetectionOutput", LayerParameter { DetectionOutputParam: { } detection }):
            {
                var classes = node.AttributesAs<DetectionOutputAttributes>().NumClasses;
                if (classes != detection.NumClasses)
                {
                    edits.Restated.Add((layer, p => p.DetectionOutputParam, DetectionOutputParameter.NumClassesFieldNumber, 0, classes));
                }

                break;
            }
        }
    }

    /// <summary>Sets value <paramref name="index"/> of a numeric field (repeated or not) of <paramref name="message"/>, in the field's own type.</summary>
    private static void SetNumber(IMessage message, int field, int index, long value)
    {
        var descriptor = message.Descriptor.FindFieldByNumber(field);
        var typed = descriptor.FieldType switch
        {
            Google.Protobuf.Reflection.FieldType.UInt32 => (object)checked((uint)value),
            Google.Protobuf.Reflection.FieldType.Int32 => checked((int)value),
            _ => value,
        };
        if (descriptor.IsRepeated)
        {
            ((System.Collections.IList)descriptor.Accessor.GetValue(message))[index] = typed;
        }
        else
        {
            descriptor.Accessor.SetValue(message, typed);
        }
    }

    /// <summary>The convolution or inner product parameters of a layer message (null for other layers).</summary>
    private static IMessage? LayerParameters(IMessage layer) => layer switch
    {
        LayerParameter p => (IMessage?)p.ConvolutionParam ?? p.InnerProductParam,
        V1LayerParameter v => (IMessage?)v.ConvolutionParam ?? v.InnerProductParam,
        _ => null,
    };

    // ------------------------------------------------------------------------------------------
    // Prototxt.

    private static string RewritePrototxt(CaffeModel document, Edits edits, Graph graph)
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
    private static NetParameter Expected(CaffeModel document, Edits edits, Graph graph)
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
            switch (LayerParameters(Twin(layer.Source)))
            {
                case ConvolutionParameter c when field == 1: c.NumOutput = value; break;
                case ConvolutionParameter c: c.Group = value; break;
                case InnerProductParameter ip: ip.NumOutput = value; break;
            }
        }

        foreach (var (layer, parameters, field, index, value) in edits.Restated)
        {
            SetNumber(parameters((LayerParameter)Twin(layer.Source))!, field, index, value);
        }

        foreach (var (before, node) in edits.Added)
        {
            var twin = (LayerParameter)Twin(before.Source);
            net.Layer.Insert(net.Layer.IndexOf(twin), AddedLayer(document, graph, node));
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
    private static string? TryEditText(string text, CaffeModel document, Edits edits, Graph graph)
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
            var parameters = LayerParameters(layer.Source);
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
            var parameters = LayerParameters(layer.Source);
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

            var added = AddedLayer(document, graph, node);
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

    // ------------------------------------------------------------------------------------------
    // Caffemodel.

    private static NetParameter RewriteWeights(Graph graph, NetParameter weights, Edits edits)
    {
        if (edits.Removed.Count == 0 && edits.Rewritten.Count == 0 && edits.Added.Count == 0 && edits.Names.Count == 0)
        {
            return weights;
        }

        var net = weights.Clone();
        var removed = edits.Removed.Select(l => l.Layer.Name).ToHashSet(StringComparer.Ordinal);
        RemoveFirst(net.Layer, removed, l => l.Name);
        RemoveFirst(net.Layers, removed, l => l.Name);

        foreach (var (before, node) in edits.Added)
        {
            var index = net.Layer.ToList().FindIndex(l => l.Name == before.Layer.Name);
            if (index < 0)
            {
                throw new InvalidOperationException($"the caffemodel has no layer '{before.Layer.Name}' to put '{node.Name}' before.");
            }

            var layer = new LayerParameter { Name = node.Name, Type = "InnerProduct" };
            foreach (var input in node.Inputs.Skip(1))
            {
                var blob = new BlobProto { Shape = new BlobShape() };
                layer.Blobs.Add(blob);
                Fill(blob, graph.Initializers[input]);
            }

            net.Layer.Insert(index, layer);
        }

        foreach (var (layer, node, _) in edits.Rewritten)
        {
            var blobs = (IMessage?)net.Layer.FirstOrDefault(l => l.Name == layer.Layer.Name) is LayerParameter p ? p.Blobs
                : net.Layers.FirstOrDefault(l => l.Name == layer.Layer.Name)?.Blobs
                ?? throw new InvalidOperationException($"the caffemodel has no layer '{layer.Layer.Name}'.");
            Fill(blobs[0], graph.Initializers[node.Inputs[1]]);
            if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
            {
                var bias = graph.Initializers[node.Inputs[2]];
                if (blobs.Count < 2)
                {
                    var blob = new BlobProto { Shape = new BlobShape() };
                    blob.Shape.Dim.AddRange(bias.Shape.Dims);
                    blobs.Add(blob);
                }

                Fill(blobs[1], bias);
            }
        }

        // Renamed last: the edits above find the caffemodel's layers by their names as read.
        foreach (var (layer, name) in edits.Names)
        {
            foreach (var p in net.Layer.Where(l => l.Name == layer.Layer.Name).Take(1))
            {
                p.Name = name;
            }

            foreach (var v in net.Layers.Where(l => l.Name == layer.Layer.Name).Take(1))
            {
                v.Name = name;
            }
        }

        return net;
    }

    /// <summary>Removes the first layer of each removed name (the one the reader matched).</summary>
    private static void RemoveFirst<T>(Google.Protobuf.Collections.RepeatedField<T> layers, HashSet<string> names, Func<T, string> name)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < layers.Count; i++)
        {
            var n = name(layers[i]);
            if (names.Contains(n) && seen.Add(n))
            {
                layers.RemoveAt(i--);
            }
        }
    }

    private static void Fill(BlobProto blob, Initializer initializer)
    {
        var values = initializer.Data?.ToArray() ?? throw new InvalidOperationException($"initializer '{initializer.Name}' has no values.");
        if (values.Length != Math.Max(blob.Data.Count, blob.DoubleData.Count))
        {
            // Pruned: the blob takes the tensor's shape (the legacy 4-D fields give way to it).
            blob.Shape = new BlobShape();
            blob.Shape.Dim.AddRange(initializer.Shape.Dims);
            blob.ClearNum();
            blob.ClearChannels();
            blob.ClearHeight();
            blob.ClearWidth();
        }

        if (blob.DoubleData.Count > 0)
        {
            blob.DoubleData.Clear();
            blob.DoubleData.AddRange(values.Select(v => (double)v));
        }
        else
        {
            blob.Data.Clear();
            blob.Data.AddRange(values);
        }
    }
}
