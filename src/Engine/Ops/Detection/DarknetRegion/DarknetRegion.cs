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
public sealed class DarknetRegion : DetectionHead<DarknetRegionAttributes>
{
    public const string OpType = "DarknetRegion";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new DarknetRegionKernel();

    protected override DarknetRegionAttributes Parse(AttributeReader attributes) =>
        new(attributes.Int("num", 0, min: 0), attributes.Int("classes", 0, min: 0), attributes.Int("coords", 4, min: 0), attributes.Flag("softmax"),
            attributes.Choice("layout", "planes", s_layouts), ClassGroups(attributes), Softmax.MissingFile(attributes), attributes.Floats("anchor_sizes", []));

    private static long[] ClassGroups(AttributeReader attributes)
    {
        var sizes = attributes.Ints("class_groups", []);
        var classes = attributes.Int("classes", 0);
        return sizes.Length == 0 || (sizes.All(size => size >= 0) && sizes.Sum() == classes)
            ? sizes
            : throw attributes.OutOfRange($"the class tree's {sizes.Length} groups hold {sizes.Sum()} classes, but the layer has classes={classes}; the tree must be the one the layer was trained with.");
    }

    private static readonly (string, bool)[] s_layouts = [("planes", false), ("boxes", true)];

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        var cells = Checked.Mul(SpatialSize(x), x[0], attributes.Num);
        return new OpCost
        {
            Flops = new FlopTerms(
                Activation: Checked.Mul(4 * 3, cells),
                Softmax: Checked.Mul(4 * attributes.Classes, cells)),
        };
    }

    protected override long ExpectedElementsPerItem(DarknetRegionAttributes attributes, Shape input) =>
        Checked.Mul(attributes.Num, attributes.Coords + attributes.Classes + 1, SpatialSize(input));

    protected override string Explain(DarknetRegionAttributes attributes) =>
        $"filters of the layer before must be num={attributes.Num} x (coords={attributes.Coords} + classes={attributes.Classes} + 1).";

    protected override long LogisticElements(DarknetRegionAttributes attributes, Shape input) => 0;
}

/// <summary>
/// Attributes of <see cref="DarknetRegion"/>: anchors (num), classes, box coordinates, whether the
/// classes get a softmax, and the fork's output layout (<see cref="BoxesLayout"/>: values of one box
/// side by side, as pjreddie's first region layer; otherwise planes per entry). <see cref="ClassGroups"/>, when not
/// empty, is Darknet's hierarchical softmax (<c>tree=</c>): the classes of each box get one softmax per
/// group of consecutive classes of these sizes (a class tree's runs of siblings); <see cref="MissingClassTree"/>
/// as for <see cref="SoftmaxAttributes"/>. <c>AnchorSizes</c>:
/// each anchor's width and height in grid cells, empty when not given (only box decoding needs them).
/// </summary>
public sealed record DarknetRegionAttributes(long Num, long Classes, long Coords, bool Softmax, bool BoxesLayout, long[] ClassGroups, string? MissingClassTree, double[] AnchorSizes)
{
    public bool Hierarchical => ClassGroups.Length > 0 || MissingClassTree is not null;
}
