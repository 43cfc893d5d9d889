using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// What <see cref="DarknetWriter"/> can write: it edits the cfg's own sections and rewrites every kept
/// layer's tensors from the graph, so it can drop a layer (its readers then read the previous
/// layer, as darknet's do) or a conv's BatchNorm and store new parameters, but a node a pass made has
/// no section.
/// </summary>
internal sealed class DarknetWriterContract : WriterContract
{
    public static DarknetWriterContract Instance { get; } = new();

    public override string WriterName => "Darknet";

    public override string? CannotExpress(Node node, NodeEdit edit) =>
        edit == NodeEdit.Created ? $"a new {node.OpType} node: it writes the cfg's own sections, edited" : null;
}
