using NeuralBuild.Engine.Formats.Onnx.Proto;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// What the ONNX reader keeps for the writer and later passes (<see cref="Ir.Model.SourceDocument"/>):
/// the parsed model, unchanged (unknown fields included), and the way back from the IR to it. An IR
/// node's <see cref="Ir.LayerOrigin.Index"/> is the index of its <see cref="NodeProto"/> in
/// <c>Proto.Graph.Node</c>; IR initializers keep the names of the ONNX initializers they come from.
/// </summary>
public sealed class OnnxModel(
    string path,
    ModelProto proto,
    long opset,
    IReadOnlyDictionary<string, int> initializerIndex,
    IReadOnlySet<int> foldedNodes,
    IReadOnlyDictionary<int, IReadOnlyList<string>> nodeInputs,
    IReadOnlyDictionary<string, Ir.TensorData?> initializerData)
{
    public string Path { get; } = path;

    public ModelProto Proto { get; } = proto;

    /// <summary>Version of the default (ai.onnx) operator set the model imports.</summary>
    public long Opset { get; } = opset;

    /// <summary>ONNX initializer name → its index in <c>Proto.Graph.Initializer</c>.</summary>
    public IReadOnlyDictionary<string, int> InitializerIndex { get; } = initializerIndex;

    /// <summary>Indices of nodes folded into constants at read time (Constant, Shape→Gather→… chains, Identity on weights).</summary>
    public IReadOnlySet<int> FoldedNodes { get; } = foldedNodes;

    /// <summary>
    /// The IR inputs each node had when read, by node index: the writer compares them with the
    /// inputs after passes, and keeps the file's own spelling (an alias through Identity, say)
    /// wherever a pass changed nothing.
    /// </summary>
    public IReadOnlyDictionary<int, IReadOnlyList<string>> NodeInputs { get; } = nodeInputs;

    /// <summary>
    /// The data of every IR initializer as read (by reference): an IR initializer whose name or data
    /// is not here was made or changed by a pass and is written as a new ONNX initializer.
    /// </summary>
    public IReadOnlyDictionary<string, Ir.TensorData?> InitializerData { get; } = initializerData;

    public NodeProto NodeOf(Ir.Node node) => Proto.Graph.Node[node.Origin.Index];
}
