using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Writes a (possibly rewritten) Darknet model back: the cfg by editing only what changed in the
/// original text (a folded layer's <c>batch_normalize=1</c> becomes 0, removed sections disappear
/// and layer references are renumbered; comments, order and every other option stay), and the
/// weights by streaming each layer's tensors in darknet's order. Tensors the passes did not touch
/// are copied byte for byte, so read → write without passes reproduces the weights file exactly.
/// Both files go to temporary names and are moved into place only when complete.
/// </summary>
public static class DarknetWriter
{
    public static void Write(Model model, string cfgPath, string weightsPath, DarknetWeightsHeader? headerWhenNone = null)
    {
        var darknet = model.SourceDocument as DarknetModel
            ?? throw new ArgumentException("The model was not read from Darknet files.", nameof(model));
        var header = darknet.Header ?? headerWhenNone
            ?? throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(model.DefinitionPath), "The model was read without weights; there is nothing to write.");

        var byLayer = model.Graph.Nodes.GroupBy(n => n.Origin.Index).ToDictionary(g => g.Key, g => g.ToList());
        var kept = darknet.Layers.Where(l => byLayer.ContainsKey(l.Index)).ToList();
        var newIndex = NewIndices(darknet.Layers, byLayer);

        AtomicFiles.Write(
            (cfgPath, temp => File.WriteAllText(temp, RewriteCfg(darknet, model.Graph, byLayer, newIndex))),
            (weightsPath, temp => WriteWeights(model.Graph, darknet, header, kept, byLayer, temp)));
    }

    /// <summary>Old layer index → new index; a removed layer maps to the layer whose output replaced it.</summary>
    private static int[] NewIndices(IReadOnlyList<DarknetLayer> layers, Dictionary<int, List<Node>> byLayer)
    {
        var map = new int[layers.Count];
        var next = 0;
        for (var i = 0; i < layers.Count; i++)
        {
            // Removed layers (dropout, identity, forward-folded batchnorm) passed their input on,
            // which in darknet is always the previous layer's output.
            // A layer a pass wrote as two (a low-rank connected layer) takes two sections; references to it
            // mean its output, the second.
            next += byLayer.TryGetValue(i, out var nodes) ? AddedSections(layers[i], nodes) : 0;
            map[i] = byLayer.ContainsKey(i) ? next++ : i == 0 ? -1 : map[i - 1];
        }

        return map;
    }

    /// <summary>Sections written before the layer's own: a connected layer's first factor (two FullyConnected nodes).</summary>
    private static int AddedSections(DarknetLayer layer, List<Node> nodes) =>
        layer.Section.Type is "connected" or "conn" && nodes.Count(n => n.OpType == "FullyConnected") == 2 ? 1 : 0;

    private static string RewriteCfg(DarknetModel darknet, Graph graph, Dictionary<int, List<Node>> byLayer, int[] newIndex)
    {
        var lines = new List<string?>(darknet.Cfg.Lines);
        var sections = darknet.Cfg.Sections;
        foreach (var layer in darknet.Layers)
        {
            var sectionEnd = layer.Index + 2 < sections.Count ? sections[layer.Index + 2].HeaderLineIndex : lines.Count;
            if (!byLayer.TryGetValue(layer.Index, out var nodes))
            {
                for (var i = layer.Section.HeaderLineIndex; i < sectionEnd; i++)
                {
                    lines[i] = null;
                }

                continue;
            }

            if (layer.Section.Find("batch_normalize") is { } bnOption && bnOption.Value != "0"
                && layer.Section.Type is "convolutional" or "conv" or "deconvolutional" or "deconv" or "connected" or "conn"
                && !nodes.Any(n => n.OpType == "BatchNormalization"))
            {
                lines[bnOption.LineIndex] = ReplaceValue(lines[bnOption.LineIndex]!, "0");
            }

            WriteChannelCounts(lines, darknet.Cfg.NewLine, layer, nodes, graph);
            if (AddedSections(layer, nodes) > 0)
            {
                // The first factor of a low-rank layer: a linear [connected] section of its rank, just before.
                var nl = darknet.Cfg.NewLine;
                var rank = graph.Initializers[nodes.First(n => n.OpType == "FullyConnected").Inputs[1]].Shape[0];
                lines[layer.Section.HeaderLineIndex] = $"[connected]{nl}output={rank.ToString(CultureInfo.InvariantCulture)}{nl}activation=linear{nl}{nl}" + lines[layer.Section.HeaderLineIndex];
            }

            foreach (var key in (string[])["layers", "from", "share_index", "yolo_layer", "embedding_layer"])
            {
                if (layer.Section.Find(key) is { } option)
                {
                    var renumbered = Renumber(option, layer.Index, newIndex);
                    if (renumbered != option.Value)
                    {
                        lines[option.LineIndex] = ReplaceValue(lines[option.LineIndex]!, renumbered);
                    }
                }
            }
        }

        var text = string.Join(darknet.Cfg.NewLine, lines.Where(l => l is not null));
        return darknet.Cfg.EndsWithNewLine ? text + darknet.Cfg.NewLine : text;
    }

    /// <summary>
    /// States the channel counts a pass changed (channel pruning): a conv's <c>filters=</c> (and a
    /// depthwise conv's <c>groups=</c>), a connected layer's <c>output=</c>, from the weights as they
    /// are now. An option the section leaves at its default is added under the section header.
    /// </summary>
    private static void WriteChannelCounts(List<string?> lines, string newLine, DarknetLayer layer, List<Node> nodes, Graph graph)
    {
        var section = layer.Section;
        if (section.Type is "convolutional" or "conv" && nodes.FirstOrDefault(n => n.OpType == "Conv") is { } conv && layer.StoredTensors.Count > 0)
        {
            SetCount(lines, newLine, section, "filters", graph.Initializers[conv.Inputs[1]].Shape[0]);
            SetCount(lines, newLine, section, "groups", conv.AttributesAs<ConvAttributes>().Group);
        }
        else if (section.Type is "connected" or "conn" && nodes.LastOrDefault(n => n.OpType == "FullyConnected") is { } fc)
        {
            SetCount(lines, newLine, section, "output", graph.Initializers[fc.Inputs[1]].Shape[0]);
        }
        else if (nodes.FirstOrDefault(n => n.OpType is "DarknetYolo" or "DarknetGaussianYolo") is { } yolo)
        {
            // A class subset: the head decodes the classes its conv still produces.
            SetCount(lines, newLine, section, "classes", yolo.AttributesAs<DarknetYoloAttributes>().Classes, DefaultClasses);
        }
        else if (nodes.FirstOrDefault(n => n.OpType == "DarknetRegion") is { } region)
        {
            SetCount(lines, newLine, section, "classes", region.AttributesAs<DarknetRegionAttributes>().Classes, DefaultClasses);
        }
    }

    /// <summary>Darknet's <c>classes=</c> when a [yolo] or [region] section leaves it out.</summary>
    private const long DefaultClasses = 20;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> where the section states another value (absent is <paramref name="absent"/>, darknet's default).</summary>
    private static void SetCount(List<string?> lines, string newLine, CfgSection section, string key, long value, long absent = 1)
    {
        var text = value.ToString(CultureInfo.InvariantCulture);
        if (section.Find(key) is { } option)
        {
            if (!long.TryParse(option.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var stated) || stated != value)
            {
                lines[option.LineIndex] = ReplaceValue(lines[option.LineIndex]!, text);
            }
        }
        else if (value != absent)
        {
            lines[section.HeaderLineIndex] += newLine + key + "=" + text;
        }
    }

    private static string Renumber(CfgOption option, int layerIndex, int[] newIndex)
    {
        var parts = option.Value.Split(',');
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var reference))
            {
                continue;
            }

            var target = reference < 0 ? layerIndex + reference : reference;
            var mapped = target >= 0 && target < newIndex.Length ? newIndex[target] : target;
            if (mapped < 0)
            {
                throw DiagnosticCodes.CfgBadLayerReference.Exception(option.Location,
                    $"{option.Key}={option.Value} refers to a removed first layer; the rewritten cfg cannot express it.");
            }

            parts[i] = (reference < 0 ? mapped - newIndex[layerIndex] : mapped).ToString(CultureInfo.InvariantCulture);
        }

        return string.Join(',', parts);
    }

    /// <summary>Replaces the text after '=' (up to a trailing comment), keeping spacing and comment.</summary>
    private static string ReplaceValue(string line, string value)
    {
        var eq = line.IndexOf('=', StringComparison.Ordinal);
        var rest = line[(eq + 1)..];
        var hash = rest.IndexOf('#', StringComparison.Ordinal);
        var body = hash >= 0 ? rest[..hash] : rest;
        var comment = hash >= 0 ? rest[hash..] : string.Empty;
        var leading = body[..(body.Length - body.TrimStart().Length)];
        var trailing = body.TrimStart()[body.Trim().Length..];
        return line[..(eq + 1)] + leading + value + trailing + comment;
    }

    /// <summary>The header, then every kept layer's tensors in darknet's order, streamed (<see cref="TensorStream"/>).</summary>
    private static void WriteWeights(Graph graph, DarknetModel darknet, DarknetWeightsHeader header, List<DarknetLayer> kept, Dictionary<int, List<Node>> byLayer, string path)
    {
        var tensors = kept
            .SelectMany(layer => TensorsInFileOrder(layer, byLayer[layer.Index], darknet.Dialect))
            .Select(name => graph.Initializers[name])
            .ToList();
        var headerBytes = new byte[header.ByteLength];
        header.Write(headerBytes);
        TensorStream.Write(path, headerBytes, tensors);
    }

    /// <summary>Which initializers a layer stores, in darknet's read order, from the graph as it is now.</summary>
    private static IEnumerable<string> TensorsInFileOrder(DarknetLayer layer, List<Node> nodes, DarknetDialect dialect)
    {
        Node Op(string type) => nodes.FirstOrDefault(n => n.OpType == type)
            ?? throw new InvalidOperationException($"Layer {layer.Index} [{layer.Section.Type}] lost its {type} node; the rewrite cannot be written as Darknet.");
        var bn = nodes.FirstOrDefault(n => n.OpType == "BatchNormalization");
        switch (layer.Section.Type)
        {
            case "convolutional" or "conv" or "deconvolutional" or "deconv":
            {
                if (layer.StoredTensors.Count == 0)
                {
                    yield break; // share_index: the weights live in the shared layer.
                }

                var conv = layer.Section.Type.StartsWith("conv", StringComparison.Ordinal) ? Op("Conv") : Op("ConvTranspose");
                yield return bn is not null ? bn.Inputs[2] : Bias(conv, layer);
                if (bn is not null)
                {
                    yield return bn.Inputs[1];
                    yield return bn.Inputs[3];
                    yield return bn.Inputs[4];
                }

                yield return conv.Inputs[1];
                break;
            }

            case "connected" or "conn":
            {
                var factors = nodes.Where(n => n.OpType == "FullyConnected").ToList();
                if (factors.Count == 2)
                {
                    // The low-rank first factor's own section: bias, weights.
                    yield return Bias(factors[0], layer);
                    yield return factors[0].Inputs[1];
                }

                var fc = factors[^1];
                yield return bn is not null ? bn.Inputs[2] : Bias(fc, layer);
                yield return fc.Inputs[1];
                if (bn is not null)
                {
                    yield return bn.Inputs[1];
                    yield return bn.Inputs[3];
                    yield return bn.Inputs[4];
                }

                break;
            }

            case "batchnorm":
                if (dialect == DarknetDialect.AlexeyAB)
                {
                    yield return Op("BatchNormalization").Inputs[2];
                }

                yield return Op("BatchNormalization").Inputs[1];
                yield return Op("BatchNormalization").Inputs[3];
                yield return Op("BatchNormalization").Inputs[4];
                break;

            case "local":
                yield return Op("LocallyConnected").Inputs[2];
                yield return Op("LocallyConnected").Inputs[1];
                break;

            case "shortcut" when layer.StoredTensors.Count > 0:
                // Weighted (an unweighted shortcut stores nothing; of equal shapes it is read as an Add).
                yield return Op("Shortcut").Inputs[^1];
                break;

            default:
                if (layer.StoredTensors.Count > 0)
                {
                    throw new InvalidOperationException($"Layer {layer.Index} [{layer.Section.Type}] stores weights the writer does not know how to place.");
                }

                break;
        }
    }

    private static string Bias(Node node, DarknetLayer layer) =>
        node.Inputs.Count > 2 && node.Inputs[2].Length > 0
            ? node.Inputs[2]
            : throw new InvalidOperationException($"Layer {layer.Index} [{layer.Section.Type}] has neither a bias nor a BatchNorm; Darknet cannot store it.");
}
