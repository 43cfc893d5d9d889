using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [yolo]: per anchor of the mask, (x, y, w, h, objectness, classes…); logistic on x, y,
/// objectness and classes (not on w, h; not at all with new_coords=1). Input channels must be
/// <c>anchors * (classes + 5)</c>.
/// </summary>
public sealed class DarknetYolo : DetectionHead
{
    public override string Name => "DarknetYolo";

    internal override Kernel Kernel { get; } = new DarknetYoloKernel();

    protected override long ExpectedElementsPerItem(OpContext context, Shape input) =>
        Checked.Mul(context.Attributes.Int("anchors"), context.Attributes.Int("classes") + 5, SpatialSize(input));

    protected override string Explain(OpContext context, Shape input) =>
        $"filters of the layer before must be {context.Attributes.Int("anchors")} anchors x ({context.Attributes.Int("classes")} classes + 5) = {context.Attributes.Int("anchors") * (context.Attributes.Int("classes") + 5)}.";

    protected override long LogisticElements(OpContext context) =>
        context.Attributes.Int("new_coords", 0) != 0 ? 0
        : Checked.Mul(context.Attributes.Int("anchors"), context.Attributes.Int("classes") + 3, SpatialSize(context.Input(0)) * context.Input(0)[0]);

    internal static long SpatialSize(Shape x) => x.Rank == 4 ? Checked.Mul(x.H, x.W) : 1;
}
