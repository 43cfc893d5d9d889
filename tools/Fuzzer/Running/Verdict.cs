namespace NeuralBuild.Fuzzer.Running;

/// <summary>What became of one input. Everything but <see cref="Ok"/> and <see cref="Coded"/> is a bug.</summary>
public enum Verdict
{
    /// <summary>Fused, verified and re-read.</summary>
    Ok,

    /// <summary>Refused with a NeuralException (an NMxxxx code): the promised behaviour for bad input.</summary>
    Coded,

    /// <summary>Any other exception escaped, or the worker process died.</summary>
    Crash,

    /// <summary>Did not finish within the per-input time limit.</summary>
    Hang,

    /// <summary>Allocated more than the bound for its input size, or ran out of memory.</summary>
    OverAllocation,

    /// <summary>A file of the input folder changed, appeared or disappeared.</summary>
    SourceModified,
}

public static class Verdicts
{
    public static IReadOnlyList<Verdict> All { get; } = Enum.GetValues<Verdict>();

    public static bool IsBug(this Verdict verdict) => verdict is not (Verdict.Ok or Verdict.Coded);

    /// <summary>Kebab-case name used in reports, folder names and the worker protocol.</summary>
    public static string Label(this Verdict verdict) => verdict switch
    {
        Verdict.OverAllocation => "over-allocation",
        Verdict.SourceModified => "source-modified",
        _ => verdict.ToString().ToLowerInvariant(),
    };

    public static Verdict Parse(string label) => All.First(v => v.Label() == label);
}

/// <summary>The verdict of one input with what explains it.</summary>
public sealed record Outcome(Verdict Verdict, string Detail, string? ExceptionType = null, string? Stack = null, string? TopFrame = null)
{
    public long AllocatedBytes { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>Reproducers of the same bug share this key: the exception type and the engine frame it came from.</summary>
    public string DedupKey(string format) => $"{format}|{Verdict.Label()}|{ExceptionType}|{TopFrame}";
}
