using System.Text;
using NeuralBuild.Fuzzer.Mutation;
using NeuralBuild.Fuzzer.Seeds;

namespace NeuralBuild.Fuzzer.Running;

/// <summary>
/// Shrinks a reproducer while it still shows the same bug (same dedup key): lines of a text
/// definition removed in halving chunks, binary files cut short, protobuf records removed one by
/// one. What is left is small enough to commit and to read.
/// </summary>
public sealed class Minimizer(FuzzRunner runner, string scratch, int maxAttempts = 4000)
{
    /// <summary>Empty, and the two Darknet header sizes: most weights bugs need no more.</summary>
    private static readonly int[] HeaderLengths = [0, 16, 20];

    private int _attempts;

    public FuzzInput Minimize(FuzzInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var key = runner.Run(input, scratch).DedupKey(input.Format);
        var files = input.Files.Select(f => f.Bytes).ToArray();
        bool Same(int index, byte[] candidate)
        {
            if (_attempts++ >= maxAttempts)
            {
                return false;
            }

            var trial = files.ToArray();
            trial[index] = candidate;
            if (index == 0 && files.Length == 2 && Regenerated(input.Definition.Name, candidate) is { } weights)
            {
                // Weights made for the smaller definition: a bug in the definition then keeps
                // showing with weights of the right size, and the weights shrink with it.
                var matching = trial.ToArray();
                matching[1] = weights;
                if (runner.Run(Build(input, matching), scratch).DedupKey(input.Format) == key)
                {
                    files[1] = weights;
                    return true;
                }
            }

            return runner.Run(Build(input, trial), scratch).DedupKey(input.Format) == key;
        }

        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < files.Length; i++)
            {
                var index = i;
                files[i] = Path.GetExtension(input.Files[i].Name) is ".cfg" or ".prototxt"
                    ? RemoveLines(files[i], b => Same(index, b))
                    : RemoveRecords(Truncate(files[i], b => Same(index, b)), b => Same(index, b));
            }
        }

        return Build(input, files) with { Mutation = $"{input.Mutation} (then minimised)" };
    }

    private byte[]? Regenerated(string definitionName, byte[] definition)
    {
        try
        {
            return SeedCorpus.SyntheticWeightsFor(definitionName, definition, Path.Combine(scratch, "regenerate"));
        }
#pragma warning disable CA1031 // A definition the engine cannot read (or crashes on) keeps its old weights.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private static FuzzInput Build(FuzzInput input, byte[][] files) =>
        input with { Files = [.. input.Files.Select((f, i) => f with { Bytes = files[i] })] };

    private static byte[] RemoveLines(byte[] bytes, Func<byte[], bool> same)
    {
        var lines = Encoding.UTF8.GetString(bytes).Split('\n').ToList();
        for (var chunk = Math.Max(1, lines.Count / 2); chunk >= 1; chunk /= 2)
        {
            for (var start = 0; start < lines.Count;)
            {
                var trial = lines.Take(start).Concat(lines.Skip(start + chunk)).ToList();
                if (same(Encoding.UTF8.GetBytes(string.Join('\n', trial))))
                {
                    lines = trial;
                }
                else
                {
                    start += chunk;
                }
            }
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    private static byte[] Truncate(byte[] bytes, Func<byte[], bool> same)
    {
        foreach (var length in HeaderLengths.Where(l => l < bytes.Length))
        {
            if (same(bytes[..length]))
            {
                return bytes[..length];
            }
        }

        return bytes;
    }

    private static byte[] RemoveRecords(byte[] bytes, Func<byte[], bool> same)
    {
        var message = WireMessage.TryParse(bytes);
        if (message is null)
        {
            return bytes;
        }

        foreach (var (field, owner) in message.AllFields().Reverse().ToList())
        {
            var at = owner.IndexOf(field);
            if (at < 0)
            {
                continue;
            }

            owner.RemoveAt(at);
            if (!same(message.ToBytes()))
            {
                owner.Insert(at, field);
            }
        }

        return message.ToBytes();
    }
}
