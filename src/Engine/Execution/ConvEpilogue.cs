using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// The BatchNormalization and/or Activation that follow a convolution, applied by the convolution
/// to each output block while it is still in cache instead of as two more passes over the tensor
/// (<see cref="EpilogueFusion"/>). Same arithmetic as the separate kernels
/// (<see cref="ChannelNormalization"/>, <see cref="ActivationFunctions"/>), so fusing changes no bit of the result.
/// </summary>
internal sealed class ConvEpilogue(float[]? mean, float[]? denominator, float[]? gamma, float[]? beta, Action<ReadOnlySpan<float>, Span<float>>? activation)
{
    /// <summary>
    /// The epilogue of <paramref name="chain"/> for an <paramref name="output"/> of that shape
    /// (NCHW), from the BatchNorm's statistics (read through <paramref name="weight"/>) and the
    /// activation's attributes.
    /// </summary>
    public static ConvEpilogue For(FusedChain chain, Shape output, Func<string, float[]> weight)
    {
        float[]? mean = null, denominator = null, gamma = null, beta = null;
        if (chain.BatchNorm is { } bn)
        {
            float[]? Statistic(int input) => bn.Inputs[input].Length == 0 ? null : weight(bn.Inputs[input]);
            beta = Statistic(2);
            mean = Statistic(3);
            var variance = Statistic(4);
            var channels = output.Rank > 1 ? output[1] : 1;
            gamma = Statistic(1) ?? ChannelNormalization.Ones((int)channels);
            if (mean is null || variance is null || gamma.Length != channels || mean.Length != channels || variance.Length != channels || (beta is not null && beta.Length != channels))
            {
                throw new InvalidOperationException($"layer {bn.Origin.Index} [{bn.Origin.Kind}] '{bn.Name}': BatchNorm statistics do not match {channels} channels.");
            }

            var (epsilon, outside, _) = bn.AttributesAs<BatchNormAttributes>();
            denominator = ChannelNormalization.Denominators(variance, epsilon, outside);
        }

        var activation = chain.Activation is { } act
            ? ActivationFunctions.Create(act.AttributesAs<ActivationAttributes>(), what => new NotSupportedException(
                $"layer {act.Origin.Index} [{act.Origin.Kind}] '{act.Name}' (Activation): the reference executor does not support {what}."))
            : null;
        return new ConvEpilogue(mean, denominator, gamma, beta, activation);
    }

    /// <summary>Transforms <paramref name="values"/> of output channel <paramref name="channel"/> in place.</summary>
    public void Apply(int channel, Span<float> values)
    {
        if (mean is not null)
        {
            ChannelNormalization.Apply(values, values, mean[channel], denominator![channel], gamma![channel], beta?[channel] ?? 0f);
        }

        activation?.Invoke(values, values);
    }
}
