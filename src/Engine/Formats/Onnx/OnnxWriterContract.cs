using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// What the edit-in-place <see cref="OnnxWriter"/> can write: the file's own nodes, some removed and some
/// reading new initializers (of new shapes, when pruning removed channels); a node a pass made is not one of them.
/// </summary>
internal sealed class OnnxWriterContract : WriterContract
{
    public static OnnxWriterContract Instance { get; } = new();

    public override string WriterName => "ONNX";

    public override string? CannotExpress(Node node, NodeEdit edit) => edit switch
    {
        NodeEdit.Removed or NodeEdit.ParametersReplaced or NodeEdit.AttributesChanged or NodeEdit.Renamed when node.Origin.Lowered =>
            $"changing '{node.Name}' alone, one of the nodes the {node.Origin.Kind} node '{node.Origin.Name}' became: it writes them back as that one node",
        NodeEdit.Created => $"a new {node.OpType} node: it writes the file's own nodes, edited",
        NodeEdit.ChannelsRemoved when node.OpType is not ("Conv" or "FullyConnected" or "MatMul" or "Activation" or "MaxPool" or "Resize" or "Concat" or "Arithmetic" or "Identity" or "Flatten" or "BatchNormalization") =>
            $"fewer channels at the {node.Origin.Kind} node '{node.Origin.Name}': it rewrites the initializers of Conv, Gemm, MatMul and BatchNormalization nodes and the group of a Conv only",
        NodeEdit.AttributesChanged => $"new attributes of the {node.Origin.Kind} node '{node.Origin.Name}': it rewrites initializers, not attributes",
        _ => null,
    };
}
