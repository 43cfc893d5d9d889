using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [region] (YOLOv2): per anchor <c>coords</c> box values, objectness and classes; input
/// channels must be <c>num * (coords + classes + 1)</c>. Logistic on x, y and objectness; the
/// class softmax is counted as a softmax term. The forks lay the output out differently
/// (attribute <c>layout</c>): "planes" (pjreddie, the default) keeps the input's channel planes;
/// "boxes" (AlexeyAB) transposes to one record of coords + 1 + classes values per cell and anchor
/// and activates only the objectness (x, y are left for the box decoder).
/// </summary>
public sealed class DarknetRegion : DetectionHead
{
    public override string Name => "DarknetRegion";

    internal override Kernel Kernel { get; } = new DarknetRegionKernel();

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var cells = Checked.Mul(DarknetYolo.SpatialSize(x), x[0], context.Attributes.Int("num"));
        return new OpCost
        {
            Flops = new FlopTerms(
                Activation: Checked.Mul(4 * 3, cells),
                Softmax: Checked.Mul(4 * context.Attributes.Int("classes"), cells)),
        };
    }

    protected override long ExpectedElementsPerItem(OpContext context, Shape input) =>
        Checked.Mul(context.Attributes.Int("num"), context.Attributes.Int("coords") + context.Attributes.Int("classes") + 1, DarknetYolo.SpatialSize(input));

    protected override string Explain(OpContext context, Shape input) =>
        $"filters of the layer before must be num={context.Attributes.Int("num")} x (coords={context.Attributes.Int("coords")} + classes={context.Attributes.Int("classes")} + 1).";

    protected override long LogisticElements(OpContext context) => 0;
}
