using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Pipeline;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// The tests' own measure of how far float32 rounding alone carries a deep network, written apart
/// from the verifier's (<c>RoundingPerturbedData</c>) so that the two check each other: the original
/// model against a second copy of it with half of its conv / FC weights moved by one ulp (mean half an
/// ulp, what rounding a folded weight does).
/// </summary>
internal static class HalfUlpFloor
{
    /// <summary>Largest relative error per compared value; <paramref name="readAgain"/> reads a second copy of <paramref name="original"/>.</summary>
    public static Dictionary<string, double> Measure(Model original, Func<Model> readAgain, out VerificationReport floor)
    {
        var perturbed = readAgain();
        var random = new SplitMix64(7);
        foreach (var node in perturbed.Graph.Nodes.Where(n => n.OpType is "Conv" or "FullyConnected"))
        {
            var initializer = perturbed.Graph.Initializers[node.Inputs[1]];
            var values = initializer.Data!.ToArray();
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (random.Next() % 4) switch
                {
                    0 => MathF.BitIncrement(values[i]),
                    1 => MathF.BitDecrement(values[i]),
                    _ => values[i],
                };
            }

            initializer.Data = new ArrayData(values);
        }

        floor = Verifier.VerifyModels(original, perturbed, 1e-5, 1e-4, floorFactor: 0);
        return floor.Comparisons.GroupBy(c => c.Output, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Max(c => c.MaxRelativeError), StringComparer.Ordinal);
    }

    /// <summary>
    /// Every comparison of <paramref name="report"/> within 4x its value's floor, and those of
    /// <paramref name="withinTolerance"/> (the first layers) within the plain tolerance.
    /// </summary>
    public static void AssertWithin(VerificationReport report, IReadOnlyDictionary<string, double> floorByValue, IEnumerable<OutputComparison> withinTolerance)
    {
        foreach (var c in report.Comparisons)
        {
            var bound = Math.Max(4 * floorByValue[c.Output], 1e-5);
            Assert.IsLessThanOrEqualTo(bound, c.MaxRelativeError, $"{c.Subject} {c.Output}: fused {c.MaxRelativeError:G3}, floor {floorByValue[c.Output]:G3}");
        }

        foreach (var c in withinTolerance)
        {
            Assert.IsTrue(c.WithinTolerance, $"{c.Subject} {c.Output}: {c.MaxAbsoluteError:G3}");
        }
    }
}
