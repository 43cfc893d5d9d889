using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Seeded choices on top of SplitMix64 (fixed output on every machine, unlike System.Random).</summary>
public sealed class Rng(ulong seed)
{
    private readonly SplitMix64 _random = new(seed);

    /// <summary>The seed of input <paramref name="iteration"/> of a run: independent of every other
    /// input, so any one input can be regenerated alone (a worker restarted after a hang resumes there).</summary>
    public static Rng ForIteration(string format, ulong seed, long iteration)
    {
        ArgumentNullException.ThrowIfNull(format);
        var formatHash = format.Aggregate(0xCBF29CE484222325UL, (h, c) => (h ^ c) * 0x100000001B3UL);
        return new Rng(new SplitMix64(seed ^ formatHash ^ ((ulong)iteration * 0x9E3779B97F4A7C15UL)).Next());
    }

    public ulong NextULong() => _random.Next();

    /// <summary>Uniform in [0, max); 0 when max is 0.</summary>
    public int Below(int max) => max <= 0 ? 0 : (int)(_random.Next() % (ulong)max);

    /// <summary>Uniform in [low, high].</summary>
    public int Between(int low, int high) => low + Below(high - low + 1);

    public bool Chance(double probability) => _random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Below(items.Count)];

    public byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = (byte)_random.Next();
        }

        return bytes;
    }
}
