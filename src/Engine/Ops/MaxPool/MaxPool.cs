using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Max pooling over kh x kw windows (padding never wins). Attributes as <see cref="Conv"/>.
/// Darknet's <c>maxpool_depth</c> (attribute <c>depth_channels</c>) instead takes the max across
/// channel groups, keeping H and W. Cost: one comparison per window element.
/// </summary>
public sealed class MaxPool : OpKind<PoolAttributes>
{
    public const string OpType = "MaxPool";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new MaxPoolKernel();

    protected override PoolAttributes Parse(AttributeReader attributes) => Pooling.Parse(attributes);

    protected override Shape[] Infer(OpContext context) => [Pooling.OutputShape(context, AttributesOf(context.Node))];

    public override OpCost Cost(OpContext context) => Pooling.WindowCost(context, AttributesOf(context.Node));
}
