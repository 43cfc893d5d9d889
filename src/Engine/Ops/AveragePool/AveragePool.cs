using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Average pooling over windows (Darknet [local_avgpool] divides by the number of in-image
/// elements: attribute count_include_pad = 0). Cost: one add per window element.
/// </summary>
public sealed class AveragePool : OpKind<PoolAttributes>
{
    public const string OpType = "AveragePool";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new AveragePoolKernel();

    protected override PoolAttributes Parse(AttributeReader attributes) => Pooling.Parse(attributes);

    protected override Shape[] Infer(OpContext context) => [Pooling.OutputShape(context, AttributesOf(context.Node))];

    public override OpCost Cost(OpContext context) => Pooling.WindowCost(context, AttributesOf(context.Node));
}
