using System.Buffers.Binary;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Format-blind damage: flipped bits, bytes inserted or deleted, truncation, overwritten words.</summary>
public static class ByteMutations
{
    public static IReadOnlyList<FileMutation> All { get; } = [FlipBits, InsertBytes, DeleteBytes, Truncate, OverwriteWord, AppendGarbage];

    private static readonly ulong[] InterestingWords =
    [
        0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0x7FC00000 /* float NaN */, 0x7F800000 /* float +inf */,
    ];

    public static Mutated FlipBits(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        if (bytes.Length == 0)
        {
            return new Mutated([0x01], "flip bits of an empty file (one byte added)");
        }

        var result = (byte[])bytes.Clone();
        var flips = rng.Between(1, 8);
        for (var i = 0; i < flips; i++)
        {
            result[rng.Below(result.Length)] ^= (byte)(1 << rng.Below(8));
        }

        return new Mutated(result, $"{flips} bit flip(s)");
    }

    public static Mutated InsertBytes(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var at = rng.Below(bytes.Length + 1);
        var inserted = rng.Bytes(rng.Chance(0.5) ? 1 : rng.Between(2, 64));
        return new Mutated([.. bytes.AsSpan(0, at), .. inserted, .. bytes.AsSpan(at)], $"{inserted.Length} random byte(s) inserted at {at}");
    }

    public static Mutated DeleteBytes(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var at = rng.Below(bytes.Length);
        var count = Math.Min(bytes.Length - at, rng.Chance(0.5) ? 1 : rng.Between(2, 256));
        return new Mutated([.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + count)], $"{count} byte(s) deleted at {at}");
    }

    public static Mutated Truncate(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var length = rng.Chance(0.2) ? rng.Below(Math.Min(bytes.Length, 32) + 1) : rng.Below(bytes.Length + 1);
        return new Mutated(bytes[..length], $"truncated to {length} of {bytes.Length} bytes");
    }

    public static Mutated OverwriteWord(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var width = rng.Pick([1, 2, 4, 8]);
        if (bytes.Length < width)
        {
            return FlipBits(bytes, rng);
        }

        var result = (byte[])bytes.Clone();
        var at = rng.Below(bytes.Length - width + 1);
        var value = rng.Pick(InterestingWords);
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(word, value);
        word[..width].CopyTo(result.AsSpan(at));
        return new Mutated(result, $"{width}-byte word at {at} set to 0x{value:X}");
    }

    public static Mutated AppendGarbage(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var garbage = rng.Bytes(rng.Between(1, 512));
        return new Mutated([.. bytes, .. garbage], $"{garbage.Length} random bytes appended");
    }

    /// <summary>A text format given binary noise: all of it, or a slab in the middle.</summary>
    public static Mutated BinaryGarbage(byte[] bytes, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        if (rng.Chance(0.3))
        {
            return new Mutated(rng.Bytes(rng.Between(1, 4096)), "whole file replaced by random bytes");
        }

        var at = rng.Below(bytes.Length + 1);
        var slab = rng.Bytes(rng.Between(1, 1024));
        return new Mutated([.. bytes.AsSpan(0, at), .. slab, .. bytes.AsSpan(at)], $"{slab.Length} random bytes inserted into the text at {at}");
    }
}
