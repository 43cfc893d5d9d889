using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Instance normalisation, one plane (image n, channel c) at a time: its mean and biased variance
/// accumulated in double (a plane can hold millions of values, and float32 sums lose the variance
/// of large, nearly constant planes), then <c>((x - mean) / sqrt(var + eps)) * scale + B</c> with
/// BatchNorm's per-element primitive.
/// </summary>
internal sealed class InstanceNormalizationKernel : Kernel
{
    public override bool SupportsInPlace => true;

    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var scale = context.Input(1).Data;
        var bias = context.Input(2).Data;
        var epsilon = context.AttributesAs<InstanceNormAttributes>().Epsilon;
        var layout = TensorLayout.Of(x.Shape);
        if (scale.Length != layout.Channels || bias.Length != layout.Channels)
        {
            throw context.Error($"scale and bias of lengths {scale.Length} and {bias.Length} do not match {layout.Channels} channels.");
        }

        var input = x.Data;
        var output = context.Output.Data;
        ParallelWork.For(context, layout.Planes, layout.PlanesPerChunk, (start, end) =>
        {
            for (var plane = (int)start; plane < end; plane++)
            {
                var c = plane % layout.Channels;
                var source = input.AsSpan(plane * layout.Plane, layout.Plane);
                var (mean, variance) = MeanAndVariance(source);
                ChannelNormalization.Apply(
                    source,
                    output.AsSpan(plane * layout.Plane, layout.Plane),
                    (float)mean, (float)Math.Sqrt(variance + epsilon), scale[c], bias[c]);
            }
        });
    }

    /// <summary>Two passes (the mean, then the squared deviations from it): exact where E[x²] - mean² would cancel.</summary>
    private static (double Mean, double Variance) MeanAndVariance(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v;
        }

        var mean = sum / values.Length;
        var squares = 0.0;
        foreach (var v in values)
        {
            var d = v - mean;
            squares += d * d;
        }

        return (mean, squares / values.Length);
    }
}
