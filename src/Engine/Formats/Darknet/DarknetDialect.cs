namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Whose Darknet "the original" is. They differ in BatchNorm arithmetic (docs/folding.md) and in
/// the weights layout of a standalone [batchnorm] layer (AlexeyAB stores biases, pjreddie does not).
/// </summary>
public enum DarknetDialect
{
    AlexeyAB,
    Pjreddie,
}
