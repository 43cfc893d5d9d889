using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// What writing a Caffe model after passes changes in its files: layers dropped, bottoms, tops and
/// names restated, producers with new blobs, counts a pruning changed, numbers a class subset
/// restated, layers a pass added. Planned once from the graph and the document as read; the
/// prototxt editor and the caffemodel editor both apply it.
/// </summary>
internal sealed class CaffeEdits
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

    public static CaffeEdits Plan(Graph graph, CaffeModel document)
    {
        var nodes = graph.Nodes.ToDictionary(n => n.SourceName, StringComparer.Ordinal);
        var edits = new CaffeEdits();
        PlanAdded(graph, document, edits);
        foreach (var layer in document.Layers)
        {
            if (layer.Node is null)
            {
                continue;
            }

            var kept = layer.Nodes.Count(nodes.ContainsKey);
            if (kept == 0)
            {
                edits.Removed.Add(layer);
                continue;
            }

            if (kept != layer.Nodes.Count)
            {
                throw new NotSupportedException($"layer '{layer.Layer.Name}' ({layer.Layer.Type}): a pass removed {layer.Nodes.Count - kept} of the {layer.Nodes.Count} nodes it became; the Caffe writer writes them back as one layer (its contract refuses such an edit).");
            }

            var node = nodes[layer.Node];
            if (node.Name != node.SourceName && layer.Layer.Name == node.SourceName)
            {
                edits.Names.Add((layer, node.Name));
            }

            for (var i = 0; i < layer.Layer.Top.Count && i < layer.TopPorts.Count; i++)
            {
                var (producer, output) = layer.TopPorts[i];
                var value = nodes[producer].Outputs[output];
                var blob = document.BlobOfValue.GetValueOrDefault(value, value);
                if (blob != layer.Layer.Top[i])
                {
                    edits.Tops.Add((layer, i, blob));
                }
            }

            for (var i = 0; i < layer.Layer.Bottom.Count && i < layer.BottomPorts.Count; i++)
            {
                var (reader, input) = layer.BottomPorts[i];
                var value = nodes[reader].Inputs[input];
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
    private static void PlanAdded(Graph graph, CaffeModel document, CaffeEdits edits)
    {
        var ownNodes = document.Layers.SelectMany(l => l.Nodes.Select(n => (Node: n, Layer: l))).ToDictionary(e => e.Node, e => e.Layer, StringComparer.Ordinal);
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
    internal static LayerParameter AddedLayer(CaffeModel document, Graph graph, Node node)
    {
        var layer = new LayerParameter { Name = node.Name, Type = "InnerProduct", InnerProductParam = new InnerProductParameter { NumOutput = (uint)graph.Initializers[node.Inputs[1]].Shape[0] } };
        layer.Bottom.Add(document.BlobOfValue.GetValueOrDefault(node.Inputs[0], node.Inputs[0]));
        layer.Top.Add(node.Outputs[0]);
        return layer;
    }

    /// <summary>The num_output (and group) a pruned layer states, where they differ from the prototxt's.</summary>
    private static void PlanCounts(CaffeEdits edits, CaffeLayer layer, Node node, Graph graph)
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
    private static void PlanRestated(CaffeEdits edits, CaffeLayer layer, Node node)
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
    internal static void SetNumber(IMessage message, int field, int index, long value)
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
    internal static IMessage? LayerParameters(IMessage layer) => layer switch
    {
        LayerParameter p => (IMessage?)p.ConvolutionParam ?? p.InnerProductParam,
        V1LayerParameter v => (IMessage?)v.ConvolutionParam ?? v.InnerProductParam,
        _ => null,
    };
}
