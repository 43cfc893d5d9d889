using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// What <see cref="DarknetWriter"/> can write: it edits the cfg's own sections and rewrites every kept
/// layer's tensors from the graph, so it can drop a layer (its readers then read the previous
/// layer, as darknet's do) or a conv's BatchNorm and store new parameters, but a node a pass made has
/// no section, except the first factor of a low-rank connected layer, which it writes as a [connected]
/// section of its own just before the layer's (references to the layer renumbered). Fewer channels it states in a conv's <c>filters=</c> / <c>groups=</c> (its BatchNorm's entries stored with it) and a connected
/// layer's <c>output=</c>; the sections that pass channels on (maxpool, upsample, route, shortcut,
/// activations) imply their counts. A detection head's class count it restates as <c>classes=</c>; layers have no names to change. Any other section that states or stores per-channel data
/// (a deconvolution's filters, a local layer, a standalone batchnorm, a weighted shortcut) it does not rewrite.
/// </summary>
internal sealed class DarknetWriterContract : WriterContract
{
    public static DarknetWriterContract Instance { get; } = new();

    public override string WriterName => "Darknet";

    public override string? CannotExpress(Node node, NodeEdit edit) => edit switch
    {
        NodeEdit.Created when node.OpType == "FullyConnected" && node.Origin.Kind is "connected" or "conn" => null,
        NodeEdit.Created => $"a new {node.OpType} node: it writes the cfg's own sections, edited (it adds only a [connected] section before a connected layer, the first factor of a low-rank one)",
        NodeEdit.ChannelsRemoved when node.OpType is not ("Conv" or "FullyConnected" or "Activation" or "MaxPool" or "Resize" or "Concat" or "Arithmetic" or "Identity" or "BatchNormalization")
            || (node.OpType == "Conv" && node.Origin.Kind is not ("convolutional" or "conv"))
            || (node.OpType == "BatchNormalization" && node.Origin.Kind is not ("convolutional" or "conv")) =>
            $"fewer channels in the [{node.Origin.Kind}] section '{node.Origin.Name}': it states filters= of convolutional and output= of connected sections only",
        NodeEdit.AttributesChanged when node.OpType is not ("DarknetYolo" or "DarknetGaussianYolo" or "DarknetRegion") =>
            $"new attributes of the [{node.Origin.Kind}] section '{node.Origin.Name}': it restates classes= of [yolo], [Gaussian_yolo] and [region] sections only",
        NodeEdit.Renamed => "a new name: Darknet layers have no names (they are numbered); choose them by index",
        _ => null,
    };
}
