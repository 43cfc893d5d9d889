using System.Globalization;

namespace NeuralBuild.Fuzzer.Running;

/// <summary>Counts per verdict of one format's run.</summary>
public sealed class Tally(string format)
{
    private readonly Dictionary<Verdict, long> _counts = Verdicts.All.ToDictionary(v => v, _ => 0L);

    public string Format => format;

    public long Inputs => _counts.Values.Sum();

    public long this[Verdict verdict] => _counts[verdict];

    public TimeSpan Elapsed { get; set; }

    public long Bugs => _counts.Where(c => c.Key.IsBug()).Sum(c => c.Value);

    public void Add(Verdict verdict) => _counts[verdict]++;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{format}: {Inputs:N0} inputs in {Elapsed.TotalSeconds:N0} s ({Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9):N1}/s): ")
        + string.Join(", ", Verdicts.All.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Label()} {_counts[v]:N0}")));
}
