using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [detection] (YOLOv1): the flat input holds, for a side x side grid, class
/// probabilities, then <c>num</c> confidences, then <c>num * coords</c> box values:
/// <c>side² * ((1 + coords) * num + classes)</c> values in all.
/// </summary>
public sealed class DarknetDetection : DetectionHead
{
    public override string Name => "DarknetDetection";

    internal override Kernel Kernel { get; } = new DarknetDetectionKernel();

    protected override long ExpectedElementsPerItem(OpContext context, Shape input)
    {
        var a = context.Attributes;
        var side = a.Int("side");
        return Checked.Mul(side * side, ((1 + a.Int("coords")) * a.Int("num")) + a.Int("classes"));
    }

    protected override string Explain(OpContext context, Shape input) =>
        "side² x ((1 + coords) x num + classes) must equal the outputs of the layer before.";

    protected override long LogisticElements(OpContext context) => 0;
}
