using System.Globalization;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Evaluation;

/// <summary>The order of an image's colour channels in the model's input.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (torchvision, Darknet).</summary>
    Rgb,

    /// <summary>Blue, green, red (Caffe models trained on OpenCV-read images).</summary>
    Bgr,
}

/// <summary>How an image is brought to the model's input size.</summary>
public enum ResizeMode
{
    /// <summary>Bilinear (half-pixel centres, edges clamped) straight to W x H; the aspect ratio is not kept. The default.</summary>
    Stretch,

    /// <summary>Darknet's letterbox: bilinear to the largest size that keeps the aspect ratio and fits W x H, centred, the rest filled with grey 0.5.</summary>
    Letterbox,
}

/// <summary>
/// How an image becomes a model input, as the user declares it: each pixel p read as a value in [0, 1]
/// (the byte / 255), resized (<see cref="ResizeMode"/>), then per channel c of the model's order
/// <c>x = (p - Mean[c]) * Scale[c]</c>; a standard deviation is given as its reciprocal scale. Layout NCHW.
/// One value of <see cref="Mean"/> or <see cref="Scale"/> applies to every channel.
/// </summary>
public sealed record InputPreprocessing(IReadOnlyList<float> Mean, IReadOnlyList<float> Scale, ChannelOrder Order, ResizeMode Resize)
{
    /// <summary>Pixels in [0, 1], RGB, stretched: Darknet's convention and the default.</summary>
    public static InputPreprocessing Default { get; } = new([0f], [1f], ChannelOrder.Rgb, ResizeMode.Stretch);

    /// <summary>The options as written (null: the default); a value that is not a number list, an order or a resize mode is NM0379.</summary>
    public static InputPreprocessing Parse(string? mean, string? scale, string? std, string? order, string? resize, SourceLocation where)
    {
        if (!string.IsNullOrWhiteSpace(scale) && !string.IsNullOrWhiteSpace(std))
        {
            throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, "give the input scale or the input std, not both (std s is scale 1/s).");
        }

        var scales = string.IsNullOrWhiteSpace(std)
            ? Numbers(scale, "input scale", where) ?? Default.Scale
            : [.. Numbers(std, "input std", where)!.Select(s => s != 0 ? 1 / s : throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, "an input std of 0 divides by zero."))];
        return new InputPreprocessing(
            Numbers(mean, "input mean", where) ?? Default.Mean,
            scales,
            Choice(order, ChannelOrder.Rgb, "channel order", "rgb|bgr", where),
            Choice(resize, ResizeMode.Stretch, "resize", "stretch|letterbox", where));
    }

    /// <summary>The value for channel <paramref name="channel"/> of <paramref name="values"/> (one value: every channel).</summary>
    internal static float For(IReadOnlyList<float> values, int channel) => values.Count == 1 ? values[0] : values[channel];

    /// <summary>Checks the lists fit a model with <paramref name="channels"/> channels (NM0378 otherwise).</summary>
    internal void RequireChannels(long channels, SourceLocation where)
    {
        foreach (var (name, values) in new[] { ("mean", Mean), ("scale", Scale) })
        {
            if (values.Count != 1 && values.Count != channels)
            {
                throw DiagnosticCodes.EvaluationInputMismatch.Exception(where, $"the input {name} has {values.Count} values but the model's input has {channels} channels: give one value, or one per channel.");
            }
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"pixels in [0, 1], {Resize.ToString().ToLowerInvariant()}, {Order.ToString().ToLowerInvariant()}, mean {string.Join(',', Mean)}, scale {string.Join(',', Scale)}");

    private static float[]? Numbers(string? text, string what, SourceLocation where)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
            {
                throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, $"{what} '{text}': '{parts[i]}' is not a number; give one number, or one per channel separated by commas (0.485,0.456,0.406).");
            }
        }

        return values;
    }

    private static T Choice<T>(string? text, T fallback, string what, string choices, SourceLocation where)
        where T : struct, Enum =>
        string.IsNullOrWhiteSpace(text) ? fallback
        : Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsDigit(text.Trim()[0]) ? value
        : throw DiagnosticCodes.InvalidEvaluationSetting.Exception(where, $"{what} '{text}': give one of {choices}.");
}
