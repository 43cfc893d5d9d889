using System.Diagnostics;
using System.Globalization;
using NeuralBuild.Fuzzer;
using NeuralBuild.Fuzzer.Running;

// Mutation fuzzer of the fuse path; see tools/Fuzzer/README.md.
FuzzOptions options;
try
{
    options = FuzzOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine("usage: NeuralBuild.Fuzzer --format darknet|caffe|onnx|all --iterations N --seed S --out DIR [--time-limit-seconds T] [--timeout-seconds T] [--findings DIR] [--in-process] | --replay FOLDER...");
    return 2;
}

var limits = new RunLimits { Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds) };
if (options.Replay.Count > 0)
{
    return Replay(options.Replay, limits);
}

if (options.Minimize.Count > 0)
{
    return Minimize(options, limits);
}

if (options.Worker)
{
    return Worker(options, limits);
}

var tallies = new List<Tally>();
foreach (var format in options.Formats)
{
    var tally = options.InProcess ? InProcess(options, format, limits) : Supervise(options, format);
    tallies.Add(tally);
    Console.WriteLine(tally);
}

var store = new ReproducerStore(Path.Combine(options.Out, "reproducers"));
var summary = string.Join(Environment.NewLine, tallies.Select(t => t.ToString()))
    + Environment.NewLine + $"unique reproducers in {Path.Combine(options.Out, "reproducers")}: {store.Count}";
Console.WriteLine($"unique reproducers in {Path.Combine(options.Out, "reproducers")}: {store.Count}");
Directory.CreateDirectory(options.Out); // a run of no inputs kept nothing, so nothing made the folder yet
File.WriteAllText(Path.Combine(options.Out, "summary.txt"), $"{string.Join(' ', args)}{Environment.NewLine}{summary}{Environment.NewLine}");
return tallies.Any(t => t.Bugs > 0) ? 1 : 0;

static DateTime Deadline(FuzzOptions options) =>
    options.DeadlineTicks is { } ticks ? new DateTime(ticks, DateTimeKind.Utc)
    : options.TimeLimitSeconds is { } seconds ? DateTime.UtcNow.AddSeconds(seconds) : DateTime.MaxValue;

static FuzzSession CreateSession(string format, RunLimits limits, FuzzOptions options) =>
    FuzzSession.Create(format, new FuzzRunner(new FuseTarget(), limits), Path.Combine(options.Out, "work", $"{format}-{Environment.ProcessId}"));

static void Keep(ReproducerStore store, FuzzSession session, FuzzOptions options, long iteration, FuzzInput input, Outcome outcome)
{
    var saved = store.Save(input, outcome, FuzzSession.RegenerateCommand(session.Format, options.Seed, iteration));
    if (saved is not null)
    {
        Console.Error.WriteLine($"new {outcome.Verdict.Label()} ({session.Format} input {iteration}): {outcome.Detail} -> {saved}");
    }
}

static Tally InProcess(FuzzOptions options, string format, RunLimits limits)
{
    var tally = new Tally(format);
    var clock = Stopwatch.StartNew();
    var session = CreateSession(format, limits, options);
    var store = new ReproducerStore(Path.Combine(options.Out, "reproducers"), options.Findings);
    foreach (var (iteration, input, outcome) in session.Run(options.Seed, options.From, options.Iterations, Deadline(options)))
    {
        tally.Add(outcome.Verdict);
        if (outcome.Verdict.IsBug())
        {
            Keep(store, session, options, iteration, input, outcome);
        }
    }

    tally.Elapsed = clock.Elapsed;
    return tally;
}

// A worker runs inputs and reports each verdict on stdout as "R <iteration> <verdict>"; after a hang
// it saves the reproducer and exits 3 so the supervisor starts a fresh process at the next input.
static int Worker(FuzzOptions options, RunLimits limits)
{
    var format = options.Formats[0];
    var session = CreateSession(format, limits, options);
    var store = new ReproducerStore(Path.Combine(options.Out, "reproducers"), options.Findings);
    Console.WriteLine($"S {session.Seeds.Count} {string.Join(" | ", session.DroppedSeeds)}");
    foreach (var (iteration, input, outcome) in session.Run(options.Seed, options.From, options.Iterations, Deadline(options)))
    {
        if (outcome.Verdict.IsBug())
        {
            Keep(store, session, options, iteration, input, outcome);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"R {iteration} {outcome.Verdict.Label()}"));
        if (outcome.Verdict == Verdict.Hang)
        {
            Console.Out.Flush();
            Environment.Exit(3);
        }
    }

    return 0;
}

// Runs workers until the iterations or the time limit are used up. A worker that dies without
// saying why (a stack overflow, a fatal runtime error) is a crash of the input after the last one
// it reported: regenerated here from its seed and saved with the worker's last stderr lines. A
// worker that stops reporting entirely (its own watchdog stuck) is killed and counted as a hang.
static Tally Supervise(FuzzOptions options, string format)
{
    var tally = new Tally(format);
    var clock = Stopwatch.StartNew();
    var deadline = Deadline(options);
    var next = options.From;
    var silence = TimeSpan.FromSeconds((options.TimeoutSeconds * 3) + 120);
    var progress = Stopwatch.StartNew();
    while (next < options.Iterations && DateTime.UtcNow < deadline)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(FuzzOptions).Assembly.Location);
        }

        foreach (var argument in options.WorkerArguments(format, next, deadline))
        {
            start.ArgumentList.Add(argument);
        }

        // A size-driven allocation fails fast with OutOfMemoryException instead of paging the machine.
        start.Environment["DOTNET_GCHeapHardLimit"] = "0xC0000000";
        using var worker = Process.Start(start)!;
        var stderr = new List<string>();
        worker.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.Add(e.Data);
                Console.Error.WriteLine(e.Data);
            }
        };
        worker.BeginErrorReadLine();
        var last = next - 1;
        var killed = false;
        while (true)
        {
            var line = worker.StandardOutput.ReadLineAsync();
            if (!line.Wait(silence))
            {
                worker.Kill(entireProcessTree: true);
                killed = true;
                break;
            }

            if (line.Result is null)
            {
                break;
            }

            var parts = line.Result.Split(' ', 3);
            if (parts[0] == "R")
            {
                last = long.Parse(parts[1], CultureInfo.InvariantCulture);
                tally.Add(Verdicts.Parse(parts[2]));
                if (progress.Elapsed > TimeSpan.FromMinutes(1))
                {
                    tally.Elapsed = clock.Elapsed;
                    Console.Error.WriteLine($"progress {tally}");
                    progress.Restart();
                }
            }
            else if (parts[0] == "S" && next == options.From && parts.Length > 2 && parts[2].Length > 0)
            {
                Console.Error.WriteLine($"{format}: seeds dropped (they do not fuse unmutated): {parts[2]}");
            }
        }

        worker.WaitForExit();
        if (worker.ExitCode == 0 && !killed)
        {
            break;
        }

        if (worker.ExitCode == 3 && !killed)
        {
            next = last + 1;
            continue;
        }

        // The worker died (or hung beyond its own watchdog) on input last + 1.
        var inFlight = last + 1;
        if (inFlight < options.Iterations)
        {
            var verdict = killed ? Verdict.Hang : Verdict.Crash;
            tally.Add(verdict);
            string tail;
            lock (stderr)
            {
                tail = string.Join(Environment.NewLine, stderr.TakeLast(40));
            }

            var session = FuzzSession.Create(format, new FuzzRunner(new FuseTarget(), new RunLimits()), Path.Combine(options.Out, "work", $"{format}-supervisor"));
            var input = session.Generate(options.Seed, inFlight);
            var outcome = new Outcome(verdict, killed ? "worker silent; killed" : $"worker process died with exit code {worker.ExitCode}", killed ? null : "process death", tail, killed ? "(worker killed)" : "(process died)");
            new ReproducerStore(Path.Combine(options.Out, "reproducers"), options.Findings).Save(input, outcome, FuzzSession.RegenerateCommand(format, options.Seed, inFlight));
            Console.Error.WriteLine($"{format} input {inFlight}: {outcome.Detail}");
        }

        next = inFlight + 1;
    }

    tally.Elapsed = clock.Elapsed;
    return tally;
}

// Writes each reproducer, minimised, to OUT/FORMAT/NAME/ (as committed under tests/Fuzzer.Tests/Reproducers).
static int Minimize(FuzzOptions options, RunLimits limits)
{
    var runner = new FuzzRunner(new FuseTarget(), limits);
    var scratch = Path.Combine(Path.GetTempPath(), $"neuralbuild-fuzz-minimize-{Environment.ProcessId}");
    foreach (var folder in options.Minimize)
    {
        var input = ReproducerStore.Load(folder);
        if (!runner.Run(input, scratch).Verdict.IsBug())
        {
            Console.WriteLine($"{folder}: not a bug (any more); left as it is");
            continue;
        }

        var minimal = new Minimizer(runner, scratch).Minimize(input);
        var outcome = runner.Run(minimal, scratch);
        var target = Path.Combine(options.Out, minimal.Format, Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)));
        Directory.CreateDirectory(target);
        foreach (var file in minimal.Files)
        {
            File.WriteAllBytes(Path.Combine(target, file.Name), file.Bytes);
        }

        var regenerate = File.ReadLines(Path.Combine(folder, ReproducerStore.DescriptionFile)).FirstOrDefault(l => l.StartsWith("regenerate: ", StringComparison.Ordinal))?["regenerate: ".Length..] ?? "?";
        File.WriteAllText(Path.Combine(target, ReproducerStore.DescriptionFile), ReproducerStore.Describe(minimal, outcome, outcome.DedupKey(minimal.Format), regenerate));
        Console.WriteLine($"{folder}: {input.TotalBytes:N0} -> {minimal.TotalBytes:N0} bytes, {outcome.Verdict.Label()}: {outcome.Detail} -> {target}");
    }

    return 0;
}

static int Replay(IReadOnlyList<string> folders, RunLimits limits)
{
    var runner = new FuzzRunner(new FuseTarget(), limits);
    var bugs = 0;
    foreach (var folder in folders)
    {
        var input = ReproducerStore.Load(folder);
        var outcome = runner.Run(input, Path.Combine(Path.GetTempPath(), $"neuralbuild-fuzz-replay-{Environment.ProcessId}"));
        Console.WriteLine($"{folder}: {outcome.Verdict.Label()}: {outcome.Detail}");
        if (outcome.Verdict.IsBug())
        {
            bugs++;
            Console.WriteLine(outcome.Stack);
        }
    }

    return bugs > 0 ? 1 : 0;
}
