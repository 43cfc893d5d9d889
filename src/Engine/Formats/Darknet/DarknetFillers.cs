using System.Globalization;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Darknet's own initialisation of a layer's stored tensors (darknet's make_convolutional_layer,
/// make_connected_layer, make_batchnorm_layer), as a plain distribution (<see cref="ParameterFiller"/>):
/// <list type="bullet">
/// <item>[convolutional] weights: s · U(-1, 1) in AlexeyAB's darknet, s · N(0, 1) in pjreddie's, with
/// s = sqrt(2 / (size · size · c / groups)), the weights' fan-in;</item>
/// <item>[connected] weights: s · U(-1, 1) with s = sqrt(2 / inputs);</item>
/// <item>biases 0; BatchNorm scales 1, rolling mean and variance 0 (darknet allocates them zeroed).</item>
/// </list>
/// Other stored tensors (deconvolutional, local, weighted shortcut) are left without a rule.
/// </summary>
internal static class DarknetFillers
{
    public static ParameterFiller? For(DarknetLayer layer, string role, Shape shape, DarknetDialect dialect)
    {
        var at = layer.Section.Location;
        var type = layer.Section.Type;
        var convolutional = type is "convolutional" or "conv";
        var connected = type is "connected" or "conn";
        if (!convolutional && !connected && type != "batchnorm")
        {
            return null;
        }

        switch (role)
        {
            case "weights" when convolutional && shape.Rank == 4:
            {
                var fanIn = shape[1] * shape[2] * shape[3];
                var s = Math.Sqrt(2.0 / fanIn);
                var text = string.Create(CultureInfo.InvariantCulture, $"darknet's rule: sqrt(2/{fanIn})");
                return dialect == DarknetDialect.AlexeyAB
                    ? new ParameterFiller(FillerDistribution.Uniform, -s, s, text + " * uniform(-1, 1)", at)
                    : new ParameterFiller(FillerDistribution.Gaussian, 0, s, text + " * normal(0, 1)", at);
            }

            case "weights" when connected && shape.Rank == 2:
            {
                var s = Math.Sqrt(2.0 / shape[1]);
                return new ParameterFiller(FillerDistribution.Uniform, -s, s, string.Create(CultureInfo.InvariantCulture, $"darknet's rule: sqrt(2/{shape[1]}) * uniform(-1, 1)"), at);
            }

            case "biases":
                return ParameterFiller.Constant(0, "darknet's rule: 0", at);
            case "scales":
                return ParameterFiller.Constant(1, "darknet's rule: 1", at);
            case "rolling_mean" or "rolling_variance":
                return ParameterFiller.Constant(0, "darknet's rule: 0", at);
            default:
                return null;
        }
    }
}
