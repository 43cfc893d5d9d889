using NeuralBuild.Fuzzer.Mutation;
using NeuralBuild.Fuzzer.Seeds;

namespace NeuralBuild.Fuzzer.Running;

/// <summary>
/// Inputs <c>from</c>..<c>to</c> of one format and run seed: each generated from its own seeded
/// stream (<see cref="Rng.ForIteration"/>), run, classified, and kept as a reproducer when it is a
/// bug. Stops at the first hang: the stuck thread cannot be stopped, so the process running the
/// session must end (the CLI's supervisor then starts a fresh worker at the next input).
/// </summary>
public sealed class FuzzSession
{
    private readonly FuzzRunner _runner;
    private readonly string _scratch;

    private FuzzSession(string format, IReadOnlyList<SeedModel> seeds, IReadOnlyList<string> dropped, FuzzRunner runner, string scratch)
    {
        Format = format;
        Seeds = seeds;
        DroppedSeeds = dropped;
        _runner = runner;
        _scratch = scratch;
    }

    public string Format { get; }

    public IReadOnlyList<SeedModel> Seeds { get; }

    /// <summary>Seed models the engine did not fuse unmutated (with why): fuzzing from them would test less.</summary>
    public IReadOnlyList<string> DroppedSeeds { get; }

    /// <summary>Builds the format's seeds and keeps those that fuse cleanly as they are.</summary>
    public static FuzzSession Create(string format, FuzzRunner runner, string scratch)
    {
        ArgumentNullException.ThrowIfNull(runner);
        Directory.CreateDirectory(scratch);
        var kept = new List<SeedModel>();
        var dropped = new List<string>();
        foreach (var seed in SeedCorpus.Build(format, scratch, dropped))
        {
            var outcome = runner.Run(new FuzzInput(format, seed.Name, "none", seed.Files), Path.Combine(scratch, "input"));
            if (outcome.Verdict == Verdict.Ok)
            {
                kept.Add(seed);
            }
            else
            {
                dropped.Add($"{seed.Name}: {outcome.Verdict.Label()}: {outcome.Detail}");
            }
        }

        if (kept.Count == 0)
        {
            throw new InvalidOperationException($"no {format} seed model fuses unmutated: {string.Join("; ", dropped)}");
        }

        return new FuzzSession(format, kept, dropped, runner, scratch);
    }

    public FuzzInput Generate(ulong seed, long iteration) => Mutator.Mutate(Seeds, Rng.ForIteration(Format, seed, iteration));

    public static string RegenerateCommand(string format, ulong seed, long iteration) =>
        $"input {iteration} of `dotnet run -c Release --project tools/Fuzzer -- --format {format} --seed {seed} --from {iteration} --iterations {iteration + 1}`";

    /// <summary>Runs inputs until <paramref name="to"/>, the deadline, or a hang.</summary>
    public IEnumerable<(long Iteration, FuzzInput Input, Outcome Outcome)> Run(ulong seed, long from, long to, DateTime deadlineUtc)
    {
        for (var i = from; i < to && DateTime.UtcNow < deadlineUtc; i++)
        {
            var input = Generate(seed, i);
            var outcome = _runner.Run(input, Path.Combine(_scratch, "input"));
            yield return (i, input, outcome);
            if (outcome.Verdict == Verdict.Hang)
            {
                yield break;
            }
        }
    }
}
