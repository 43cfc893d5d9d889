using System.Buffers.Binary;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Damage a Darknet .weights file: header versions and <c>seen</c> at the extremes, a short or long body.</summary>
public static class WeightsMutations
{
    public static IReadOnlyList<FileMutation> All { get; } = [HeaderField, HeaderField, HeaderField, ShortOrLongBody];

    private static readonly long[] ExtremeHeaderValues = [0, 1, 2, 3, 9, 10, 999, 1000, 1001, int.MaxValue, -1, int.MinValue, uint.MaxValue, long.MaxValue];

    public static Mutated HeaderField(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        if (bytes.Length < 20)
        {
            return ByteMutations.FlipBits(bytes, rng);
        }

        var result = (byte[])bytes.Clone();
        var field = rng.Pick(["major", "minor", "revision", "seen"]);
        var value = rng.Pick(ExtremeHeaderValues);
        switch (field)
        {
            case "seen":
                BinaryPrimitives.WriteInt64LittleEndian(result.AsSpan(12), value);
                break;
            default:
                BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(field switch { "major" => 0, "minor" => 4, _ => 8 }), unchecked((int)value));
                break;
        }

        return new Mutated(result, $"weights header {field} set to {value}");
    }

    public static Mutated ShortOrLongBody(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var delta = rng.Pick([-4, -1, -3, 1, 4, 8, -16, 4096]);
        var length = Math.Max(0, bytes.Length + delta);
        var result = new byte[length];
        bytes.AsSpan(0, Math.Min(length, bytes.Length)).CopyTo(result);
        return new Mutated(result, $"weights body {(delta < 0 ? "cut" : "extended")} by {Math.Abs(delta)} byte(s)");
    }
}
