namespace NeuralBuild.Engine.Numerics;

/// <summary>
/// SplitMix64: a tiny PRNG with a published, fixed output sequence, so generated files are
/// identical on every machine and .NET version (System.Random makes no such promise).
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double low, double high) => low + ((high - low) * NextDouble());

    /// <summary>Standard normal by Box–Muller (one value per call; simplicity over speed).</summary>
    public double Normal()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
