using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Darknet [yolo]: per anchor of the mask, (x, y, w, h, objectness, classes…); logistic on x, y,
/// objectness and classes (not on w, h; not at all with new_coords=1). Input channels must be
/// <c>anchors * (classes + 5)</c>.
/// </summary>
public sealed class DarknetYolo : DetectionHead<DarknetYoloAttributes>
{
    public const string OpType = "DarknetYolo";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new DarknetYoloKernel();

    protected override DarknetYoloAttributes Parse(AttributeReader attributes) => DarknetYoloAttributes.Parse(attributes);

    protected override long ExpectedElementsPerItem(DarknetYoloAttributes attributes, Shape input) =>
        Checked.Mul(attributes.Anchors, attributes.Classes + 5, SpatialSize(input));

    protected override string Explain(DarknetYoloAttributes attributes) =>
        $"filters of the layer before must be {attributes.Anchors} anchors x ({attributes.Classes} classes + 5) = {attributes.Anchors * (attributes.Classes + 5)}.";

    protected override long LogisticElements(DarknetYoloAttributes attributes, Shape input) =>
        attributes.NewCoords ? 0 : Checked.Mul(attributes.Anchors, attributes.Classes + 3, SpatialSize(input) * input[0]);
}

/// <summary>
/// Attributes of <see cref="DarknetYolo"/> and <see cref="DarknetGaussianYolo"/>: anchors used by the
/// head (its mask), classes, <c>new_coords</c> (scaled-YOLOv4's decoding: no logistic here) and <c>scale_x_y</c>;
/// <c>AnchorSizes</c>: each used anchor's width and height in input pixels, empty when the model did
/// not give them (needed only to decode boxes, never for shape or cost).
/// </summary>
public sealed record DarknetYoloAttributes(long Anchors, long Classes, bool NewCoords, double ScaleXY, double[] AnchorSizes)
{
    internal static DarknetYoloAttributes Parse(AttributeReader attributes) =>
        new(attributes.Int("anchors", 0, min: 0), attributes.Int("classes", 0, min: 0), attributes.Flag("new_coords"), attributes.Float("scale_x_y", 1),
            attributes.Floats("anchor_sizes", []));
}
