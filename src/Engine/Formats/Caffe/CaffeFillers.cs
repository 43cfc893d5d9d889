using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// The initialisation Caffe gives a layer's blob when no caffemodel does, as a plain distribution
/// (<see cref="ParameterFiller"/>). Caffe's rules, from its filler.hpp and the layers' setup:
/// <list type="bullet">
/// <item>a FillerParameter left out is <c>constant</c> 0 (its proto defaults); Scale's factor without a
/// filler is constant 1, PReLU's slope constant 0.25, Normalize's scale 1, BatchNorm's statistics 0;</item>
/// <item><c>xavier</c> is uniform on ±sqrt(3 / n) and <c>msra</c> normal with standard deviation
/// sqrt(2 / n), where n is fan_in = count / shape(0), fan_out = count / shape(1), or their mean
/// (<c>variance_norm</c>: FAN_IN by default, FAN_OUT, AVERAGE), over the blob's shape as Caffe stores it
/// (a missing axis counts 1);</item>
/// <item><c>positive_unitball</c>, <c>bilinear</c> and a sparse <c>gaussian</c> depend on more than a
/// distribution: they are <see cref="FillerDistribution.Unsupported"/>, refused only if used.</item>
/// </list>
/// </summary>
internal static class CaffeFillers
{
    public static ParameterFiller? For(CaffeLayerContext layer, int blobIndex, Shape blobShape)
    {
        var p = layer.P;
        var at = layer.Layer.Origin.Location;
        return p.Type switch
        {
            "Convolution" or "Deconvolution" when p.ConvolutionParam is { } c =>
                blobIndex == 0 ? From(c.WeightFiller, blobShape, layer, at) : From(c.BiasFiller, blobShape, layer, at),
            "InnerProduct" when p.InnerProductParam is { } ip =>
                blobIndex == 0 ? From(ip.WeightFiller, blobShape, layer, at) : From(ip.BiasFiller, blobShape, layer, at),
            "Scale" => blobIndex == 0
                ? (p.ScaleParam?.Filler is { } f ? From(f, blobShape, layer, at) : ParameterFiller.Constant(1, "constant 1 (Scale's default)", at))
                : From(p.ScaleParam?.BiasFiller, blobShape, layer, at),
            "Bias" => From(p.BiasParam?.Filler, blobShape, layer, at),
            "PReLU" => p.PreluParam?.Filler is { } slope ? From(slope, blobShape, layer, at) : ParameterFiller.Constant(0.25, "constant 0.25 (PReLU's default)", at),
            "Normalize" => p.NormParam?.ScaleFiller is { } scale ? From(scale, blobShape, layer, at) : ParameterFiller.Constant(1, "constant 1 (Normalize's default)", at),
            "BatchNorm" => ParameterFiller.Constant(0, "constant 0 (BatchNorm's statistics)", at),
            _ => null,
        };
    }

    private static ParameterFiller From(FillerParameter? filler, Shape shape, CaffeLayerContext layer, SourceLocation fallback)
    {
        if (filler is null)
        {
            return ParameterFiller.Constant(0, "constant 0 (no filler given)", fallback);
        }

        var at = layer.Map.Of(filler) is { HasLine: true } written ? written : fallback;
        var count = (double)shape.ElementCount;
        var fanIn = count / (shape.Rank > 0 ? shape[0] : 1);
        var fanOut = count / (shape.Rank > 1 ? shape[1] : 1);
        var (n, norm) = filler.VarianceNorm switch
        {
            FillerParameter.Types.VarianceNorm.FanOut => (fanOut, "fan_out"),
            FillerParameter.Types.VarianceNorm.Average => ((fanIn + fanOut) / 2, "average of fan_in and fan_out"),
            _ => (fanIn, "fan_in"),
        };
        string Text(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        return filler.Type switch
        {
            "constant" => ParameterFiller.Constant(filler.Value, Text($"constant {filler.Value}"), at),
            "uniform" => new ParameterFiller(FillerDistribution.Uniform, filler.Min, filler.Max, Text($"uniform [{filler.Min}, {filler.Max}]"), at),
            "gaussian" when filler.Sparse == -1 =>
                new ParameterFiller(FillerDistribution.Gaussian, filler.Mean, filler.Std, Text($"gaussian (mean {filler.Mean}, std {filler.Std})"), at),
            "xavier" => new ParameterFiller(FillerDistribution.Uniform, -Math.Sqrt(3 / n), Math.Sqrt(3 / n), Text($"xavier ({norm} {n})"), at),
            "msra" => new ParameterFiller(FillerDistribution.Gaussian, 0, Math.Sqrt(2 / n), Text($"msra ({norm} {n})"), at),
            "gaussian" => new ParameterFiller(FillerDistribution.Unsupported, 0, 0, Text($"gaussian with sparse: {filler.Sparse}"), at),
            _ => new ParameterFiller(FillerDistribution.Unsupported, 0, 0, $"filler type '{filler.Type}'", at),
        };
    }
}
