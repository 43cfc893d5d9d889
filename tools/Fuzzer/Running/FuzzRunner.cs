using System.Diagnostics;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Fuzzer.Running;

/// <summary>
/// Runs one input through a target in a scratch folder and classifies what happened. The target
/// runs on its own thread so that a hang is seen (the thread cannot be stopped in .NET: after a
/// <see cref="Verdict.Hang"/> the caller must end the process, see <see cref="FuzzSession"/>).
/// </summary>
public sealed class FuzzRunner(IFuzzTarget target, RunLimits limits)
{
    public RunLimits Limits => limits;

    public Outcome Run(FuzzInput input, string scratch)
    {
        ArgumentNullException.ThrowIfNull(input);
        var inputFolder = Path.Combine(scratch, "in");
        var outputFolder = Path.Combine(scratch, "out");
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }

        Directory.CreateDirectory(inputFolder);
        foreach (var file in input.Files)
        {
            File.WriteAllBytes(Path.Combine(inputFolder, file.Name), file.Bytes);
        }

        var definition = Path.Combine(inputFolder, input.Definition.Name);
        Exception? failure = null;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            try
            {
                target.Run(definition, outputFolder);
            }
#pragma warning disable CA1031 // Classifying every exception is the point of a fuzzer.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }
        }, limits.StackBytes)
        { IsBackground = true, Name = "fuzz input" };
        worker.Start();
        if (!worker.Join(limits.Timeout))
        {
            return new Outcome(Verdict.Hang, $"still running after {limits.Timeout.TotalSeconds:0.#} s", TopFrame: "(hang)") { Elapsed = clock.Elapsed };
        }

        var elapsed = clock.Elapsed;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var outcome = Classify(failure, allocated, limits.AllocationBound(input.TotalBytes)) with { AllocatedBytes = allocated, Elapsed = elapsed };
        var changed = ChangedSourceFiles(input, inputFolder);
        return changed.Count > 0
            ? outcome with { Verdict = Verdict.SourceModified, Detail = $"source folder changed: {string.Join(", ", changed)} (the run itself: {outcome.Verdict.Label()}: {outcome.Detail})", TopFrame = "(source)" }
            : outcome;
    }

    private static Outcome Classify(Exception? failure, long allocated, long bound)
    {
        switch (failure)
        {
            case null when allocated > bound:
            case NeuralException when allocated > bound:
                return new Outcome(Verdict.OverAllocation, $"allocated {allocated:N0} bytes, over the bound of {bound:N0}", TopFrame: "(allocation)");
            case null:
                return new Outcome(Verdict.Ok, "fused");
            case NeuralException coded:
                return new Outcome(Verdict.Coded, coded.Diagnostic.ToString(), coded.GetType().FullName, coded.StackTrace);
            case OutOfMemoryException:
                return new Outcome(Verdict.OverAllocation, $"{failure.GetType().Name}: {failure.Message}", failure.GetType().FullName, failure.ToString(), TopEngineFrame(failure));
            default:
                return new Outcome(Verdict.Crash, $"{failure.GetType().Name}: {failure.Message}", failure.GetType().FullName, failure.ToString(), TopEngineFrame(failure));
        }
    }

    /// <summary>The innermost NeuralBuild frame: the throw site inside System.* says little about which engine check is missing.</summary>
    internal static string TopEngineFrame(Exception e)
    {
        var frames = new StackTrace(e).GetFrames();
        var frame = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.FullName?.StartsWith("NeuralBuild.", StringComparison.Ordinal) == true)
            ?? frames.FirstOrDefault();
        var method = frame?.GetMethod();
        return method is null ? "(no frame)" : $"{method.DeclaringType?.FullName}.{method.Name}";
    }

    private static List<string> ChangedSourceFiles(FuzzInput input, string inputFolder)
    {
        var changed = new List<string>();
        var expected = input.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(inputFolder))
        {
            var name = Path.GetFileName(path);
            if (!expected.TryGetValue(name, out var file))
            {
                changed.Add($"{name} (added)");
            }
            else if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(file.Bytes))
            {
                changed.Add($"{name} (modified)");
            }
        }

        changed.AddRange(expected.Keys.Where(n => !File.Exists(Path.Combine(inputFolder, n))).Select(n => $"{n} (deleted)"));
        return changed;
    }
}
