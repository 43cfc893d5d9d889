using System.Globalization;
using System.Numerics;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// The largest sizes a model file may ask for. A reader refuses a size option above
/// <see cref="MaxExtent"/> at the option and a tensor above <see cref="MaxElements"/> at the layer
/// that makes it, so shape inference, the cost model, the reference executor and the verifier never
/// meet a size they cannot hold (docs/diagnostics.md: NM0014, NM0018, NM0115, NM0118).
/// </summary>
public static class ModelLimits
{
    /// <summary>
    /// 2^20 = 1,048,576: the most one size option may say (a width, height, channel or filter
    /// count, kernel, stride, padding, dilation, group or class count). Real models stay far below
    /// (the largest in the Darknet corpora is 28,269 filters), and two such values multiply
    /// without overflowing 64 bits.
    /// </summary>
    public const long MaxExtent = 1L << 20;

    /// <summary>2^31 - 1: the most elements of one tensor, as the reference executor holds a tensor in one float array indexed by int.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>Whether <paramref name="shape"/> holds at most <see cref="MaxElements"/> elements; counts without overflowing, whatever the dimensions.</summary>
    public static bool FitsElementLimit(Shape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var dim in shape.Dims)
        {
            if (dim <= 0)
            {
                // Empty and negative shapes are refused with their own code (NM0021) where they arise.
                return true;
            }

            if (count > MaxElements / dim)
            {
                return false;
            }

            count *= dim;
        }

        return true;
    }

    /// <summary>The reason a tensor that fails <see cref="FitsElementLimit"/> is refused, for the error message.</summary>
    public static string ElementLimitReason(string what, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = shape.Dims.Aggregate(BigInteger.One, (product, dim) => product * dim);
        return string.Create(CultureInfo.InvariantCulture,
            $"{what} {shape} has {count:N0} elements; NeuralBuild holds a tensor in one array of at most {MaxElements:N0} (2^31 - 1) elements.");
    }

    /// <summary>What an error message says about <see cref="MaxExtent"/> when a value is above it.</summary>
    public static string ExtentLimitReason =>
        string.Create(CultureInfo.InvariantCulture, $"at most {MaxExtent:N0} (2^20), NeuralBuild's limit for one size, stride or count in a model file");
}
