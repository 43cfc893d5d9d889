using NeuralBuild.Engine.Execution.Primitives;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// The BatchNormalization and/or Activation that follow a convolution, applied by the convolution
/// to each output block while it is still in cache instead of as two more passes over the tensor.
/// Same arithmetic as the separate kernels (<see cref="ChannelNormalization"/>,
/// <see cref="ActivationFunctions"/>), so fusing changes no bit of the result.
/// </summary>
internal sealed class ConvEpilogue(float[]? mean, float[]? denominator, float[]? gamma, float[]? beta, Action<ReadOnlySpan<float>, Span<float>>? activation)
{
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
