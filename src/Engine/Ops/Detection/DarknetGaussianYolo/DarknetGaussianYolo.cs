using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [Gaussian_yolo]: per anchor 4 box values, 4 uncertainties, objectness and classes:
/// input channels must be <c>anchors * (classes + 9)</c>. Logistic on all but w and h.
/// </summary>
public sealed class DarknetGaussianYolo : DetectionHead<DarknetYoloAttributes>
{
    public const string OpType = "DarknetGaussianYolo";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new DarknetGaussianYoloKernel();

    protected override DarknetYoloAttributes Parse(AttributeReader attributes) => DarknetYoloAttributes.Parse(attributes);

    protected override long ExpectedElementsPerItem(DarknetYoloAttributes attributes, Shape input) =>
        Checked.Mul(attributes.Anchors, attributes.Classes + 9, SpatialSize(input));

    protected override string Explain(DarknetYoloAttributes attributes) =>
        $"filters of the layer before must be {attributes.Anchors} anchors x ({attributes.Classes} classes + 9).";

    protected override long LogisticElements(DarknetYoloAttributes attributes, Shape input) =>
        Checked.Mul(attributes.Anchors, attributes.Classes + 7, SpatialSize(input) * input[0]);
}
