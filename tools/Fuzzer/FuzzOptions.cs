using System.Globalization;

namespace NeuralBuild.Fuzzer;

/// <summary>Command line of the fuzzer (see tools/Fuzzer/README.md).</summary>
public sealed record FuzzOptions
{
    public IReadOnlyList<string> Formats { get; init; } = ["darknet", "caffe", "onnx"];

    public long Iterations { get; init; } = 1000;

    public long From { get; init; }

    public ulong Seed { get; init; } = 1;

    public string Out { get; init; } = "fuzz-out";

    /// <summary>Per format; null: no limit.</summary>
    public double? TimeLimitSeconds { get; init; }

    public double TimeoutSeconds { get; init; } = 10;

    /// <summary>Also copy each new bug's reproducer here (a folder shared with whoever fixes them).</summary>
    public string? Findings { get; init; }

    /// <summary>Run inputs in this process: no worker, so a hang or a process-killing crash ends the run.</summary>
    public bool InProcess { get; init; }

    /// <summary>Internal: this process is a worker of the supervisor.</summary>
    public bool Worker { get; init; }

    /// <summary>Internal: when the worker must stop (the supervisor's time limit), UTC ticks.</summary>
    public long? DeadlineTicks { get; init; }

    /// <summary>Replay these reproducer folders instead of fuzzing.</summary>
    public IReadOnlyList<string> Replay { get; init; } = [];

    /// <summary>Minimise these reproducer folders into <see cref="Out"/> instead of fuzzing.</summary>
    public IReadOnlyList<string> Minimize { get; init; } = [];

    public static FuzzOptions Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new FuzzOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--format" => options with { Formats = Value() is var f && f == "all" ? options.Formats : [f] },
                "--iterations" => options with { Iterations = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--from" => options with { From = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--seed" => options with { Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture) },
                "--out" => options with { Out = Value() },
                "--time-limit-seconds" => options with { TimeLimitSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--timeout-seconds" => options with { TimeoutSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--findings" => options with { Findings = Value() },
                "--in-process" => options with { InProcess = true },
                "--worker" => options with { Worker = true },
                "--deadline-ticks" => options with { DeadlineTicks = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--minimize" => options with { Minimize = [.. options.Minimize, Value()] },
                "--replay" => options with { Replay = [.. options.Replay, Value()] },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }

        var unknown = options.Formats.Where(f => f is not ("darknet" or "caffe" or "onnx")).ToList();
        return unknown.Count > 0 ? throw new ArgumentException($"unknown format '{unknown[0]}'; darknet, caffe, onnx or all") : options;
    }

    /// <summary>The arguments that make a worker run inputs <paramref name="from"/>.. of one format.</summary>
    public IEnumerable<string> WorkerArguments(string format, long from, DateTime deadlineUtc)
    {
        yield return "--worker";
        yield return "--format";
        yield return format;
        yield return "--from";
        yield return from.ToString(CultureInfo.InvariantCulture);
        yield return "--iterations";
        yield return Iterations.ToString(CultureInfo.InvariantCulture);
        yield return "--seed";
        yield return Seed.ToString(CultureInfo.InvariantCulture);
        yield return "--out";
        yield return Out;
        yield return "--timeout-seconds";
        yield return TimeoutSeconds.ToString(CultureInfo.InvariantCulture);
        yield return "--deadline-ticks";
        yield return deadlineUtc.Ticks.ToString(CultureInfo.InvariantCulture);
        if (Findings is not null)
        {
            yield return "--findings";
            yield return Findings;
        }
    }
}
