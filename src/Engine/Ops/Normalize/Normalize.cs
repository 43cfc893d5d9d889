using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// SSD's L2 Normalize: divides by the L2 norm (over C, H and W when <c>across_spatial</c>, else over
/// C at each position) and multiplies by a learned scale (one value when <c>channel_shared</c>, else
/// one per channel). Inputs: X, scale. Cost: 4 FLOPs per element (square, add, multiply by the
/// inverse norm, scale); the square roots are one per norm and not counted.
/// </summary>
public sealed class Normalize : OpKind<NormalizeAttributes>
{
    public const string OpType = "Normalize";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new NormalizeKernel();

    protected override NormalizeAttributes Parse(AttributeReader attributes) =>
        new(attributes.Flag("across_spatial", fallback: true), attributes.Flag("channel_shared", fallback: true), attributes.Float("epsilon", 1e-10));

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Image(0);
        var scale = context.Input(1);
        var expected = AttributesOf(context.Node).ChannelShared ? 1 : x.C;
        return scale.ElementCount == expected
            ? [x]
            : throw context.Error(DiagnosticCodes.ParameterShapeMismatch, $"scale has {scale.ElementCount} values but {expected} are needed.");
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul(4, context.Output.ElementCount)) };
}

/// <summary>Attributes of <see cref="Normalize"/> (Caffe SSD's NormalizeParameter): one norm over the whole image or per position, one scale for all channels or one each, epsilon.</summary>
public sealed record NormalizeAttributes(bool AcrossSpatial, bool ChannelShared, double Epsilon);
