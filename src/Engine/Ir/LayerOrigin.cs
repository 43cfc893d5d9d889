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
}
