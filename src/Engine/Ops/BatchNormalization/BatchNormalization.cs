using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Inference batch normalisation per channel: <c>y = gamma * (x - mean) / D(var) + beta</c>.
/// Inputs (ONNX order): X, scale (gamma), B (beta), mean, var, each of length C.
/// Attributes: epsilon; epsilon_placement "inside" (<c>D = sqrt(var + eps)</c>, the default) or
/// "outside" (<c>D = sqrt(var) + eps</c>, pjreddie Darknet's CPU forward).
/// Secondary cost: 2 FLOPs per element (the folded scale and shift).
/// </summary>
public sealed class BatchNormalization : OpKind<BatchNormAttributes>
{
    public const string OpType = "BatchNormalization";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new BatchNormalizationKernel();

    protected override BatchNormAttributes Parse(AttributeReader attributes)
    {
        var epsilon = attributes.Float("epsilon", 1e-5);
        var placement = attributes.String("epsilon_placement", "inside");
        return epsilon >= 0 && placement is "inside" or "outside"
            ? new BatchNormAttributes(epsilon, placement == "outside", attributes.Flag("use_global_stats", fallback: true))
            : throw attributes.OutOfRange($"epsilon {epsilon} must not be negative and its placement '{placement}' must be inside or outside.");
    }

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var channels = PerChannel.Channels(x);
        _ = context.Input(3);
        _ = context.Input(4);
        PerChannel.RequireCount(context, 1, "scale", channels, "channels");
        PerChannel.RequireCount(context, 2, "bias", channels, "channels");
        PerChannel.RequireCount(context, 3, "mean", channels, "channels");
        PerChannel.RequireCount(context, 4, "variance", channels, "channels");
        return [x];
    }

    public override OpCost Cost(OpContext context) =>
        new() { Flops = new FlopTerms(Normalization: Checked.Mul(2, context.Output.ElementCount)) };
}

/// <summary>
/// Attributes of <see cref="BatchNormalization"/>: epsilon, whether it sits outside the square root
/// (pjreddie) rather than inside, and Caffe's <c>use_global_stats</c> (false: the layer normalises
/// with the batch's own statistics, so it cannot be folded).
/// </summary>
public sealed record BatchNormAttributes(double Epsilon, bool EpsilonOutside, bool UseGlobalStats);
