using System.Globalization;
using System.Text;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// Error of one compared output under <c>|a-b| &lt;= atol + rtol*max(|b|, rms of b's channel)</c>. The relative error is
/// taken where <c>rtol*|b| &gt;= atol</c>; <see cref="WorstExcess"/> is the largest <c>|a-b| - (atol + rtol*|b|)</c>.
/// </summary>
public sealed record OutputComparison(string Subject, string Output, long Elements, double MaxAbsoluteError, double MaxRelativeError, double WorstExcess, bool WithinTolerance)
{
    /// <summary>
    /// Max absolute error on the same value of the original model against itself with its weights
    /// moved by rounding (<see cref="Verifier.VerifyModels"/>); null when not measured (the
    /// comparison is within tolerance, or the check is per fold).
    /// </summary>
    public double? RoundingFloor { get; init; }

    public double FloorFactor { get; init; }

    /// <summary>Over tolerance, but no further from the original than float32 rounding of its own weights carries it (times <see cref="FloorFactor"/>).</summary>
    public bool WithinRoundingFloor => !WithinTolerance && RoundingFloor is { } floor && MaxAbsoluteError <= FloorFactor * floor;

    public bool Passed => WithinTolerance || WithinRoundingFloor;
}

/// <summary>What verification compared and how far apart the two sides were.</summary>
public sealed record VerificationReport(VerifyMode Mode, double AbsoluteTolerance, double RelativeTolerance, IReadOnlyList<OutputComparison> Comparisons)
{
    public bool Passed => Comparisons.All(c => c.Passed);

    /// <summary>The first over-tolerance comparison in execution order: where the computations part.</summary>
    public OutputComparison? FirstFailure => Comparisons.Where(c => !c.Passed && c.Subject.StartsWith("layer", StringComparison.Ordinal)).FirstOrDefault()
        ?? Comparisons.FirstOrDefault(c => !c.Passed);

    public OutputComparison? Worst => Comparisons.OrderByDescending(c => c.WorstExcess).FirstOrDefault();

    public double MaxAbsoluteError => Comparisons.Count == 0 ? 0 : Comparisons.Max(c => c.MaxAbsoluteError);

    public double MaxRelativeError => Comparisons.Count == 0 ? 0 : Comparisons.Max(c => c.MaxRelativeError);

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"verification ({Mode}, |a-b| <= {AbsoluteTolerance:G3} + {RelativeTolerance:G3}*max(|b|, channel rms)): {(Passed ? "passed" : "FAILED")}, {Comparisons.Count} comparison(s), max abs error {MaxAbsoluteError:G3}, max rel error {MaxRelativeError:G3}");
        if (Worst is { } worst)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; worst: {worst.Subject}, value {worst.Output} (abs {worst.MaxAbsoluteError:G3}, rel {worst.MaxRelativeError:G3})");
        }

        var onFloor = Comparisons.Where(c => c.WithinRoundingFloor).ToList();
        if (onFloor.Count > 0)
        {
            var closest = onFloor.MaxBy(c => c.MaxAbsoluteError / c.RoundingFloor!.Value)!;
            sb.Append(CultureInfo.InvariantCulture,
                $"; {onFloor.Count} comparison(s) over tolerance but within {closest.FloorFactor:G3}x the float32 rounding floor (highest {closest.MaxAbsoluteError / closest.RoundingFloor!.Value:G3}x the floor, at {closest.Subject}, value {closest.Output})");
        }

        if (FirstFailure is { } first)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; first over tolerance: {first.Subject}, value {first.Output} (abs {first.MaxAbsoluteError:G3})");
        }

        return sb.ToString();
    }

    /// <summary>
    /// Compares two tensors element by element with <c>|a-b| &lt;= atol + rtol * max(|b|, rms_c)</c>,
    /// where <c>rms_c</c> is the RMS of b's channel (axis 1; the whole tensor when it has none).
    /// Float32 rounding is relative to the magnitude of the terms a result sums, which the channel
    /// RMS tracks; an output that cancels to near zero would otherwise be held to a precision
    /// float32 does not have. A wrong fold (a mis-scaled channel, a wrong epsilon, a shifted bias)
    /// moves the whole channel and still fails.
    /// </summary>
    public static OutputComparison Compare(string subject, string output, Ir.Shape shape, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double atol, double rtol)
    {
        var channels = shape.Rank >= 2 ? (int)shape[1] : 1;
        var inner = shape.Rank >= 2 ? (int)(shape.ElementsPerItem / channels) : expected.Length;
        var rms = new double[channels];
        var counts = new long[channels];
        for (var i = 0; i < expected.Length; i++)
        {
            var c = (i / inner) % channels;
            rms[c] += (double)expected[i] * expected[i];
            counts[c]++;
        }

        for (var c = 0; c < channels; c++)
        {
            rms[c] = counts[c] == 0 ? 0 : Math.Sqrt(rms[c] / counts[c]);
        }

        double maxAbs = 0, maxRel = 0, worstExcess = double.NegativeInfinity;
        var passed = actual.Length == expected.Length;
        for (var i = 0; i < Math.Min(actual.Length, expected.Length); i++)
        {
            double a = actual[i], b = expected[i];
            var abs = Math.Abs(a - b);
            if (a == b || (double.IsNaN(a) && double.IsNaN(b)))
            {
                abs = 0; // equal infinities too: their difference is NaN
            }
            else if (double.IsNaN(abs))
            {
                abs = double.PositiveInfinity;
            }

            maxAbs = Math.Max(maxAbs, abs);

            // Relative error only where the relative term of the tolerance dominates; near zero
            // it measures cancellation, not the rewrite.
            if (Math.Abs(b) * rtol >= atol)
            {
                maxRel = Math.Max(maxRel, abs / Math.Abs(b));
            }

            var excess = abs - (atol + (rtol * Math.Max(Math.Abs(b), rms[(i / inner) % channels])));
            worstExcess = Math.Max(worstExcess, excess);
            passed &= excess <= 0;
        }

        return new OutputComparison(subject, output, expected.Length, maxAbs, maxRel, worstExcess, passed);
    }
}
