using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// The caffemodel of a Caffe model after passes: the message as read (unknown fields included) with
/// the planned layers removed, added and renamed and the rewritten blobs filled. Unchanged, it
/// reproduces a canonically serialised file (Caffe's own: fields in number order, packed floats)
/// byte for byte.
/// </summary>
internal static class CaffeWeightsEditor
{
    public static NetParameter Rewrite(Graph graph, NetParameter weights, CaffeEdits edits)
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
