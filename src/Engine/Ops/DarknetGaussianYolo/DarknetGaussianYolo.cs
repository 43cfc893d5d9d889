using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [Gaussian_yolo]: per anchor 4 box values, 4 uncertainties, objectness and classes:
/// input channels must be <c>anchors * (classes + 9)</c>. Logistic on all but w and h.
/// </summary>
public sealed class DarknetGaussianYolo : DetectionHead
{
    public override string Name => "DarknetGaussianYolo";

    internal override Kernel Kernel { get; } = new DarknetGaussianYoloKernel();

    protected override long ExpectedElementsPerItem(OpContext context, Shape input) =>
        Checked.Mul(context.Attributes.Int("anchors"), context.Attributes.Int("classes") + 9, DarknetYolo.SpatialSize(input));

    protected override string Explain(OpContext context, Shape input) =>
        $"filters of the layer before must be {context.Attributes.Int("anchors")} anchors x ({context.Attributes.Int("classes")} classes + 9).";

    protected override long LogisticElements(OpContext context) =>
        Checked.Mul(context.Attributes.Int("anchors"), context.Attributes.Int("classes") + 7, DarknetYolo.SpatialSize(context.Input(0)) * context.Input(0)[0]);
}
