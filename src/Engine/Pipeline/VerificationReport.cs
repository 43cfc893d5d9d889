using System.Globalization;
using System.Text;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>Error of one compared output: the worst element under <c>|a-b| &lt;= atol + rtol*|b|</c>.</summary>
public sealed record OutputComparison(string Subject, string Output, long Elements, double MaxAbsoluteError, double MaxRelativeError, double WorstExcess, bool Passed);

/// <summary>What verification compared and how far apart the two sides were.</summary>
public sealed record VerificationReport(VerifyMode Mode, double AbsoluteTolerance, double RelativeTolerance, IReadOnlyList<OutputComparison> Comparisons)
{
    public bool Passed => Comparisons.All(c => c.Passed);

    public OutputComparison? Worst => Comparisons.OrderByDescending(c => c.WorstExcess).FirstOrDefault();

    public double MaxAbsoluteError => Comparisons.Count == 0 ? 0 : Comparisons.Max(c => c.MaxAbsoluteError);

    public double MaxRelativeError => Comparisons.Count == 0 ? 0 : Comparisons.Max(c => c.MaxRelativeError);

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"verification ({Mode}, |a-b| <= {AbsoluteTolerance:G3} + {RelativeTolerance:G3}*|b|): {(Passed ? "passed" : "FAILED")}, {Comparisons.Count} comparison(s), max abs error {MaxAbsoluteError:G3}, max rel error {MaxRelativeError:G3}");
        if (Worst is { } worst)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; worst: {worst.Subject} output {worst.Output} (abs {worst.MaxAbsoluteError:G3}, rel {worst.MaxRelativeError:G3})");
        }

        return sb.ToString();
    }

    /// <summary>Compares two equally long float arrays element by element.</summary>
    public static OutputComparison Compare(string subject, string output, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double atol, double rtol)
    {
        double maxAbs = 0, maxRel = 0, worstExcess = double.NegativeInfinity;
        var passed = actual.Length == expected.Length;
        for (var i = 0; i < Math.Min(actual.Length, expected.Length); i++)
        {
            double a = actual[i], b = expected[i];
            var abs = Math.Abs(a - b);
            if (double.IsNaN(abs))
            {
                abs = double.IsNaN(a) && double.IsNaN(b) ? 0 : double.PositiveInfinity;
            }

            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, abs / Math.Max(Math.Abs(b), 1e-30));
            var excess = abs - (atol + (rtol * Math.Abs(b)));
            worstExcess = Math.Max(worstExcess, excess);
            passed &= excess <= 0;
        }

        return new OutputComparison(subject, output, expected.Length, maxAbs, Math.Min(maxRel, maxAbs == 0 ? 0 : maxRel), worstExcess, passed);
    }
}
