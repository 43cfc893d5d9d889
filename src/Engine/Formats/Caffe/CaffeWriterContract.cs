using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// What <see cref="CaffeWriter"/> can write: it edits the prototxt's and the caffemodel's own layers,
/// so it can drop a layer and give a convolution, deconvolution or InnerProduct new blobs (and a
/// bias) or fewer channels (their num_output), but it has no layer for a node a pass made, and no blob
/// layout for other layers' new parameters. Layers between them (pooling, ReLU, Concat, Eltwise) imply their channel counts; a Reshape's dims and DetectionOutput's num_classes it restates, and layers and blobs it renames.
/// A layer the reader lowered into several nodes (<see cref="LayerOrigin.Lowered"/>: an N-input or
/// weighted Eltwise, a Slice) it writes back as that one layer, unchanged but for its blob names and
/// the channels it implies: it cannot remove or re-parameterise one of those nodes.
/// </summary>
internal sealed class CaffeWriterContract : WriterContract
{
    public static CaffeWriterContract Instance { get; } = new();

    public override string WriterName => "Caffe";

    public override string? CannotExpress(Node node, NodeEdit edit) => edit switch
    {
        NodeEdit.Created when node.OpType == "FullyConnected" && node.Origin.Kind == "InnerProduct" => null,
        NodeEdit.Removed or NodeEdit.ParametersReplaced or NodeEdit.AttributesChanged when node.Origin.Lowered =>
            $"{Describe(edit)} '{node.Name}', one of the nodes the {node.Origin.Kind} layer '{node.Origin.Name}' became: it writes them back as that one layer",
        NodeEdit.Created => $"a new {node.OpType} node: it writes the prototxt's own layers, edited (it adds only an InnerProduct before an InnerProduct, the first factor of a low-rank one)",
        NodeEdit.ChannelsRemoved when node.OpType is not ("Conv" or "FullyConnected" or "Activation" or "MaxPool" or "Concat" or "Arithmetic" or "Identity" or "Flatten") =>
            $"fewer channels in the {node.Origin.Kind} layer '{node.Origin.Name}': it states num_output of Convolution and InnerProduct layers only",
        NodeEdit.ParametersReplaced when node.OpType is not ("Conv" or "ConvTranspose" or "FullyConnected") =>
            $"new parameters of the {node.Origin.Kind} layer '{node.Origin.Name}': it rewrites the blobs of Convolution, Deconvolution and InnerProduct layers only",
        NodeEdit.AttributesChanged when node.OpType is not ("Reshape" or "DetectionOutput") =>
            $"new attributes of the {node.Origin.Kind} layer '{node.Origin.Name}': it restates a Reshape's dims and DetectionOutput's num_classes only",
        _ => null,
    };

    private static string Describe(NodeEdit edit) => edit switch
    {
        NodeEdit.Removed => "removing node",
        NodeEdit.ParametersReplaced => "new parameters of node",
        _ => "new attributes of node",
    };
}
