using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// What a Caffe writer needs beyond the graph (<see cref="Model.SourceDocument"/> of Caffe models):
/// the prototxt as parsed, where every message stood in it, the .caffemodel message as read (unknown
/// fields kept by Google.Protobuf), and for each layer of the TEST-phase network the IR node and
/// initializers it became.
/// <para>A writer rewrites the prototxt from <see cref="Net"/> (dropping a layer whose node a pass
/// removed, renaming the bottoms that read its top to the blob of <see cref="BlobOfValue"/> for the
/// value that replaced it) and the weights from <see cref="Weights"/> (replacing the blobs of a layer
/// whose initializers changed, adding a bias blob when a fold gave a conv one).</para>
/// </summary>
public sealed class CaffeModel(string prototxtPath, NetParameter net, PrototxtSourceMap sourceMap, IReadOnlyList<CaffeLayer> layers, IReadOnlyDictionary<string, string> blobOfValue)
{
    public string PrototxtPath { get; } = prototxtPath;

    /// <summary>The prototxt as parsed (legacy V1 <c>layers</c> stay V1 here; <see cref="CaffeLayer.Layer"/> holds the upgraded form).</summary>
    public NetParameter Net { get; } = net;

    public PrototxtSourceMap SourceMap { get; } = sourceMap;

    /// <summary>The included layers, in execution order.</summary>
    public IReadOnlyList<CaffeLayer> Layers { get; } = layers;

    /// <summary>IR value name → the Caffe blob (top) name it is a version of (in-place layers make several versions of one blob).</summary>
    public IReadOnlyDictionary<string, string> BlobOfValue { get; } = blobOfValue;

    /// <summary>The .caffemodel as read, or null when the model was opened without weights.</summary>
    public NetParameter? Weights { get; internal set; }

    public string? WeightsPath { get; internal set; }
}

/// <summary>One layer of the prototxt that is part of the TEST-phase network.</summary>
public sealed class CaffeLayer(int index, LayerParameter layer, IMessage source, LayerOrigin origin)
{
    /// <summary>Position among the included layers (the report's layer index).</summary>
    public int Index { get; } = index;

    /// <summary>The layer as NeuralBuild reads it (a V1 layer upgraded to LayerParameter in memory).</summary>
    public LayerParameter Layer { get; } = layer;

    /// <summary>The message in <see cref="CaffeModel.Net"/>: a LayerParameter, or the V1LayerParameter it came from.</summary>
    public IMessage Source { get; } = source;

    public LayerOrigin Origin { get; } = origin;

    /// <summary>The IR node named after this layer; null for layers that make no node (Input, Silence).</summary>
    public string? Node { get; internal set; }

    /// <summary>
    /// Every IR node this layer became, in order: one for most layers, several for a layer lowered
    /// into canonical nodes (an N-input or weighted Eltwise: an Arithmetic chain; a Slice: one
    /// StridedSlice per top). The writer writes them back as this one layer.
    /// </summary>
    public List<string> Nodes { get; } = [];

    /// <summary>Where bottom <c>i</c> is read: the node of <see cref="Nodes"/> and its input index.</summary>
    public List<(string Node, int Input)> BottomPorts { get; } = [];

    /// <summary>Where top <c>i</c> is produced: the node of <see cref="Nodes"/> and its output index.</summary>
    public List<(string Node, int Output)> TopPorts { get; } = [];

    /// <summary>The layer's stored blobs in Caffe's order with the shape Caffe expects for them.</summary>
    public List<CaffeBlobSlot> Blobs { get; } = [];

    /// <summary>The caffemodel layer whose blobs were attached (null without weights).</summary>
    public IMessage? WeightsSource { get; internal set; }
}

/// <summary>
/// Blob <c>Index</c> of a layer: the initializer it feeds (null when it feeds none: BatchNorm's
/// moving-average factor, which divides the statistics instead of being a parameter) and its shape.
/// </summary>
public sealed record CaffeBlobSlot(int Index, string Role, string? Initializer, Shape Shape);
