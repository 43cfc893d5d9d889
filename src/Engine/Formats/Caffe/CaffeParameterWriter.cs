using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Writes a Caffe model whose layers are as read and whose parameters were all given values (a
/// transplant): the prototxt's text unchanged, and a new caffemodel holding, for every layer of the
/// TEST network that has blobs, its blobs in Caffe's order (<see cref="CaffeLayer.Blobs"/>).
/// <list type="bullet">
/// <item>A blob whose values were read from a caffemodel (<see cref="CaffeBlobData"/>, this model's or
/// another Caffe model's) is written as it was read: the same message, so its bytes and its shape
/// fields are those of the source, bit for bit.</item>
/// <item>BatchNorm's statistics keep their moving-average factor when both came, unchanged, from one
/// layer of a caffemodel; otherwise they are written as the statistics themselves with a factor of 1.</item>
/// <item>Any other values are written as float data with the blob shape Caffe expects.</item>
/// </list>
/// Unlike <see cref="CaffeWriter"/>, it needs no caffemodel to start from: the model may have been read without one.
/// </summary>
internal static class CaffeParameterWriter
{
    public static void Write(Model model, string definitionPath, string weightsPath)
    {
        var document = model.SourceDocument as CaffeModel
            ?? throw new InvalidOperationException($"Model '{model.DefinitionPath}' was not read by the Caffe reader; it has no Caffe document to write.");
        var text = File.ReadAllText(document.PrototxtPath);
        var net = new NetParameter { Name = document.Net.Name };
        foreach (var layer in document.Layers.Where(l => l.Blobs.Count > 0))
        {
            var written = new LayerParameter { Name = layer.Layer.Name, Type = layer.Layer.Type };
            written.Blobs.AddRange(Blobs(layer, model.Graph));
            net.Layer.Add(written);
        }

        CaffeWriter.Save(definitionPath, text, weightsPath, net);
    }

    private static IEnumerable<BlobProto> Blobs(CaffeLayer layer, Graph graph)
    {
        var slots = layer.Blobs.OrderBy(s => s.Index).ToList();
        TensorData DataOf(CaffeBlobSlot slot) =>
            graph.Initializers[slot.Initializer!].Data
            ?? throw new InvalidOperationException($"layer '{layer.Layer.Name}': '{slot.Initializer}' has no values to write.");

        // BatchNorm: the factor slot stands for no initializer; the statistics decide how it is written.
        var statistics = slots.Where(s => s.Initializer is not null).Select(DataOf).ToList();
        var factorSlot = slots.FirstOrDefault(s => s.Initializer is null);
        var sharedFactor = statistics.Count > 0 && statistics.All(d => d is CaffeBlobData { MovingAverageFactor: not null } c && ReferenceEquals(c.MovingAverageFactor, ((CaffeBlobData)statistics[0]).MovingAverageFactor))
            ? ((CaffeBlobData)statistics[0]).MovingAverageFactor
            : null;
        foreach (var slot in slots)
        {
            if (slot.Initializer is null)
            {
                yield return sharedFactor ?? FloatBlob(slot.Shape, [1f]);
                continue;
            }

            var data = DataOf(slot);
            yield return data switch
            {
                CaffeBlobData { MovingAverageFactor: null } stored => stored.Blob,
                CaffeBlobData stored when sharedFactor is not null && factorSlot is not null => stored.Blob,
                _ => FloatBlob(slot.Shape, data.ToArray()),
            };
        }
    }

    private static BlobProto FloatBlob(Shape shape, float[] values)
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.AddRange(shape.Dims);
        blob.Data.AddRange(values);
        return blob;
    }
}
