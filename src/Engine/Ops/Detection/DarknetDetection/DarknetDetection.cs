using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [detection] (YOLOv1): the flat input holds, for a side x side grid, class
/// probabilities, then <c>num</c> confidences, then <c>num * coords</c> box values:
/// <c>side² * ((1 + coords) * num + classes)</c> values in all.
/// </summary>
public sealed class DarknetDetection : DetectionHead<DarknetDetectionAttributes>
{
    public const string OpType = "DarknetDetection";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new DarknetDetectionKernel();

    protected override DarknetDetectionAttributes Parse(AttributeReader attributes) =>
        new(attributes.Int("side", 0, min: 0), attributes.Int("num", 0, min: 0), attributes.Int("classes", 0, min: 0), attributes.Int("coords", 4, min: 0), attributes.Flag("softmax"));

    protected override long ExpectedElementsPerItem(DarknetDetectionAttributes attributes, Shape input) =>
        Checked.Mul(attributes.Side * attributes.Side, ((1 + attributes.Coords) * attributes.Num) + attributes.Classes);

    protected override string Explain(DarknetDetectionAttributes attributes) =>
        "side² x ((1 + coords) x num + classes) must equal the outputs of the layer before.";

    protected override long LogisticElements(DarknetDetectionAttributes attributes, Shape input) => 0;
}

/// <summary>Attributes of <see cref="DarknetDetection"/> (YOLOv1's [detection]): grid side, boxes per cell (num), classes, box coordinates, whether the classes get a softmax.</summary>
public sealed record DarknetDetectionAttributes(long Side, long Num, long Classes, long Coords, bool Softmax);
