using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// Resizes by per-axis <c>scales</c> (output <c>floor(in * scale)</c>) or to explicit <c>sizes</c>
/// (ONNX Resize and Upsample). Attribute <c>mode</c>: nearest, linear or cubic; how output
/// positions map to input coordinates is ONNX's: <c>coordinate_transformation_mode</c>,
/// <c>nearest_mode</c>, <c>cubic_coeff_a</c>, <c>exclude_outside</c>, <c>extrapolation_value</c> and
/// <c>roi</c>, which the reader always sets for the model's opset (see the Resize kernel). Cost per output
/// element: nearest 0 (a copy); linear 3 per spatial axis (two multiplies and an add of the
/// interpolation along that axis: 6 for bilinear); cubic 7 per spatial axis (four multiplies, three adds).
/// </summary>
public sealed class Resize : OpKind<ResizeAttributes>
{
    public const string OpType = "Resize";

    public override string Name => OpType;

    internal override Kernel Kernel { get; } = new ResizeKernel();

    protected override ResizeAttributes Parse(AttributeReader attributes) => new(
        attributes.Has("sizes") ? attributes.Ints("sizes") : null,
        attributes.Has("sizes") ? null : attributes.Floats("scales"),
        attributes.String("mode", "nearest"),
        attributes.String("coordinate_transformation_mode", "half_pixel"),
        attributes.String("nearest_mode", "round_prefer_floor"),
        attributes.Float("cubic_coeff_a", -0.75),
        attributes.Flag("exclude_outside"),
        attributes.Float("extrapolation_value", 0),
        attributes.Has("roi") ? attributes.Floats("roi") : null);

    protected override Shape[] Infer(OpContext context)
    {
        var x = context.Input(0);
        var attributes = AttributesOf(context.Node);
        if (attributes.Sizes is { } sizes)
        {
            return sizes.Length == x.Rank
                ? [context.Positive(new Shape(sizes))]
                : throw context.Error(DiagnosticCodes.ShapeMismatch, $"{sizes.Length} sizes for {x}; give one per axis.");
        }

        var scales = attributes.Scales!;
        if (scales.Length != x.Rank)
        {
            throw context.Error(DiagnosticCodes.ShapeMismatch, $"{scales.Length} scales for {x}; give one per axis.");
        }

        var dims = new long[x.Rank];
        for (var i = 0; i < dims.Length; i++)
        {
            var size = Math.Floor(x[i] * scales[i]);
            dims[i] = scales[i] > 0 && size < long.MaxValue
                ? (long)size
                : throw context.Error(DiagnosticCodes.AttributeOutOfRange, $"scale {scales[i]} of axis {i} does not give a size for {x}.");
        }

        return [context.Positive(new Shape(dims))];
    }

    public override OpCost Cost(OpContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var spatial = Enumerable.Range(0, x.Rank).Count(i => x[i] != y[i] || i >= 2);
        var perElement = AttributesOf(context.Node).Mode switch
        {
            "linear" => 3L * spatial,
            "cubic" => 7L * spatial,
            _ => 0L,
        };
        return new OpCost { Flops = new FlopTerms(Elementwise: Checked.Mul(perElement, y.ElementCount)) };
    }
}

/// <summary>
/// Attributes of <see cref="Resize"/> (ONNX Resize, normalised by the reader): the output sizes or the
/// scales per axis, and ONNX's mode, coordinate transformation, nearest rounding, cubic coefficient,
/// exclude_outside, extrapolation value and region of interest (tf_crop_and_resize).
/// </summary>
public sealed record ResizeAttributes(
    long[]? Sizes,
    double[]? Scales,
    string Mode,
    string CoordinateTransformation,
    string NearestMode,
    double CubicCoefficient,
    bool ExcludeOutside,
    double ExtrapolationValue,
    double[]? Roi);
