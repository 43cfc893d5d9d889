using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Instance normalisation: each channel of each image is normalised by its own statistics,
/// <c>y = scale * (x - mean) / sqrt(var + epsilon) + B</c>, where mean and (biased) variance run over
/// the spatial axes of that one plane (ONNX InstanceNormalization, opset 6 onwards).
/// Inputs: X (N x C x D1 …, rank at least 3), scale and B (C values each). Attribute: epsilon
/// (default 1e-5, not negative).
/// Cost: 5 FLOPs per element (1 for the plane's mean, 2 for its variance: a square and an add; 2
/// for the scale and shift), the square roots, one per plane, not counted. Unlike BatchNorm it cannot fold into a
/// convolution: its statistics depend on the input.
/// </summary>
public sealed class InstanceNormalization : OpKind<InstanceNormAttributes>
{
    public const string OpType = "InstanceNormalization";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new InstanceNormalizationKernel();

    protected override InstanceNormAttributes Parse(AttributeReader attributes)
    {
        var epsilon = attributes.Float("epsilon", 1e-5);
        return epsilon >= 0 && double.IsFinite(epsilon)
            ? new InstanceNormAttributes(epsilon)
            : throw attributes.OutOfRange($"epsilon {epsilon} must be finite and not negative.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        if (x.Rank < 3)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"input {x} needs a batch, a channel and at least one spatial axis.");
        }

        _ = context.Input(1);
        _ = context.Input(2);
        PerChannel.RequireCount(context, 1, "scale", x[1], "channels");
        PerChannel.RequireCount(context, 2, "bias", x[1], "channels");
        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul(5, context.Output.ElementCount)) };
}

/// <summary>Attributes of <see cref="InstanceNormalization"/>: the epsilon added to each plane's variance.</summary>
public sealed record InstanceNormAttributes(double Epsilon);
