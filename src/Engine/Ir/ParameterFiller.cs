namespace NeuralBuild.Engine.Ir;

/// <summary>The distributions a definition's initialisation rules reduce to.</summary>
public enum FillerDistribution
{
    /// <summary>Every value is <see cref="ParameterFiller.First"/>.</summary>
    Constant,

    /// <summary>Uniform on [<see cref="ParameterFiller.First"/>, <see cref="ParameterFiller.Second"/>].</summary>
    Uniform,

    /// <summary>Normal with mean <see cref="ParameterFiller.First"/> and standard deviation <see cref="ParameterFiller.Second"/>.</summary>
    Gaussian,

    /// <summary>A rule the definition states that NeuralBuild cannot reproduce; <see cref="ParameterFiller.Description"/> says which.</summary>
    Unsupported,
}

/// <summary>
/// How the model's definition says a parameter starts before training (Caffe's <c>weight_filler</c>,
/// Darknet's fixed rule), resolved by the reader into a plain distribution: fan-in and fan-out rules
/// are already applied, so a user of the IR needs no format to draw the values. Null on an
/// <see cref="Initializer"/> when the definition states none (ONNX).
/// </summary>
/// <param name="Distribution">The distribution the rule reduces to.</param>
/// <param name="First">The constant, the uniform's lower bound, or the normal's mean.</param>
/// <param name="Second">The uniform's upper bound or the normal's standard deviation (0 for a constant).</param>
/// <param name="Description">The rule as the definition states it, for reports: "msra (fan_in 1024)".</param>
/// <param name="Location">Where the definition states it (the filler field, or the layer), for diagnostics.</param>
public sealed record ParameterFiller(FillerDistribution Distribution, double First, double Second, string Description, Diagnostics.SourceLocation Location)
{
    public static ParameterFiller Constant(double value, string description, Diagnostics.SourceLocation location) =>
        new(FillerDistribution.Constant, value, 0, description, location);
}
