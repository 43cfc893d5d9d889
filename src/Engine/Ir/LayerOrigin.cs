using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// The layer of the source model a node came from. One source layer can become several IR nodes
/// (a Darknet <c>[convolutional]</c> with <c>batch_normalize=1</c> is Conv → BatchNormalization →
/// Activation); reports aggregate by <see cref="Index"/> so people see the layers they wrote.
/// </summary>
public sealed record LayerOrigin(int Index, string Kind, string Name, SourceLocation Location)
{
    /// <summary>
    /// True on every node of a layer the reader lowered into several canonical nodes that only
    /// together compute it (a Caffe Eltwise of three bottoms: two Adds; a Caffe Slice: one
    /// StridedSlice per top). A writer that writes such a layer back as the one layer it was cannot
    /// remove or re-parameterise one of its nodes alone; its <c>WriterContract</c> says so.
    /// </summary>
    public bool Lowered { get; init; }

    /// <summary><c>layer 13 [convolutional] line 113</c>; where the file has no lines (ONNX), <c>layer 0 [Conv] 'conv1'</c>.</summary>
    public string Describe() => Describe(Index, Kind, Name, Location);

    /// <summary>How messages and reports name a layer (<see cref="Describe()"/>), for figures kept apart from their origin.</summary>
    public static string Describe(int index, string kind, string name, SourceLocation location) =>
        location.HasLine ? $"layer {index} [{kind}] line {location.Line}"
        : name.Length > 0 ? $"layer {index} [{kind}] '{name}'"
        : $"layer {index} [{kind}]";
}
