using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Ir;

/// <summary>
/// 64-bit arithmetic for sizes and costs. Overflow becomes NM0022 with the place it happened,
/// because a model whose sizes wrap must be refused, not reported with a wrong number.
/// </summary>
public static class Checked
{
    [ThreadStatic]
    private static SourceLocation? s_location;

    /// <summary>The location blamed for an overflow while <paramref name="location"/>'s scope is open.</summary>
    public static IDisposable At(SourceLocation location)
    {
        var previous = s_location;
        s_location = location;
        return new Restore(previous);
    }

    public static long Product(ReadOnlySpan<long> values)
    {
        long result = 1;
        foreach (var v in values)
        {
            result = Mul(result, v);
        }

        return result;
    }

    public static long Mul(long a, long b)
    {
        try
        {
            return checked(a * b);
        }
        catch (OverflowException)
        {
            throw Overflow(a, b, '*');
        }
    }

    public static long Mul(long a, long b, long c) => Mul(Mul(a, b), c);

    public static long Mul(long a, long b, long c, long d) => Mul(Mul(a, b, c), d);

    public static long Add(long a, long b)
    {
        try
        {
            return checked(a + b);
        }
        catch (OverflowException)
        {
            throw Overflow(a, b, '+');
        }
    }

    private static NeuralException Overflow(long a, long b, char op) =>
        DiagnosticCodes.SizeOverflow.Exception(s_location ?? SourceLocation.None,
            $"Sizes overflow 64-bit integers ({a} {op} {b}); the layer's dimensions are not realistic.");

    private sealed class Restore(SourceLocation? previous) : IDisposable
    {
        public void Dispose() => s_location = previous;
    }
}
