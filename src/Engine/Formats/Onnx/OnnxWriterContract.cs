using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// What the edit-in-place <see cref="OnnxWriter"/> can write: the file's own nodes, some removed and some
/// reading new initializers; a node a pass made is not one of them.
/// </summary>
internal sealed class OnnxWriterContract : WriterContract
{
    public static OnnxWriterContract Instance { get; } = new();

    public override string WriterName => "ONNX";

    public override string? CannotExpress(Node node, NodeEdit edit) =>
        edit == NodeEdit.Created ? $"a new {node.OpType} node: it writes the file's own nodes, edited" : null;
}
