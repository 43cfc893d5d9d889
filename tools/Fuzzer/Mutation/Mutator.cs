using NeuralBuild.Fuzzer.Seeds;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>Turns a seed into a damaged input: one to three mutations, each on the definition or the weights, chosen per file kind.</summary>
public static class Mutator
{
    public static FuzzInput Mutate(IReadOnlyList<SeedModel> seeds, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(rng);
        var seed = rng.Pick(seeds);
        var files = seed.Files.Select(f => f.Bytes).ToArray();
        var count = rng.Chance(0.6) ? 1 : rng.Chance(0.6) ? 2 : 3;
        var steps = new List<string>();
        for (var step = 0; step < count; step++)
        {
            var which = files.Length > 1 && rng.Chance(WeightsShare(seed.Format)) ? 1 : 0;
            var mutation = rng.Pick(MutationsFor(seed.Format, which, rng));
            Mutated mutated;
            try
            {
                mutated = mutation(files[which], rng);
            }
#pragma warning disable CA1031 // A mutation tripping over an input an earlier one damaged must not end the run.
            catch (Exception e)
#pragma warning restore CA1031
            {
                mutated = ByteMutations.FlipBits(files[which], rng) with { What = $"bit flips (mutation {mutation.Method.Name} failed: {e.GetType().Name})" };
            }

            files[which] = mutated.Bytes;
            steps.Add($"{seed.Files[which].Name}: {mutated.What}");
        }

        return new FuzzInput(seed.Format, seed.Name, string.Join("; ", steps), [.. seed.Files.Select((f, i) => f with { Bytes = files[i] })]);
    }

    private static double WeightsShare(string format) => format == "caffe" ? 0.4 : 0.35;

    private static IReadOnlyList<FileMutation> MutationsFor(string format, int file, Rng rng) => (format, file) switch
    {
        ("darknet", 0) => rng.Chance(0.75) ? CfgMutations.All : ByteMutations.All,
        ("darknet", _) => rng.Chance(0.6) ? WeightsMutations.All : ByteMutations.All,
        ("caffe", 0) => rng.Chance(0.75) ? PrototxtMutations.All : ByteMutations.All,
        ("caffe", _) => rng.Chance(0.7) ? ProtobufMutations.All : ByteMutations.All,
        ("onnx", _) => rng.Chance(0.55) ? OnnxMutations.All : rng.Chance(0.65) ? ProtobufMutations.All : ByteMutations.All,
        _ => ByteMutations.All,
    };
}
