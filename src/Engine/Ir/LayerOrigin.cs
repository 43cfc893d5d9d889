using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// The layer of the source model a node came from. One source layer can become several IR nodes
/// (a Darknet <c>[convolutional]</c> with <c>batch_normalize=1</c> is Conv → BatchNormalization →
/// Activation); reports aggregate by <see cref="Index"/> so people see the layers they wrote.
/// </summary>
public sealed record LayerOrigin(int Index, string Kind, string Name, SourceLocation Location);
