using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Fuzzer.Running;

namespace NeuralBuild.Fuzzer.Tests.Running;

/// <summary>The classifier itself can fail: targets that misbehave in each way get the matching verdict.</summary>
[TestClass]
public sealed class FuzzRunnerTests
{
    private static readonly FuzzInput Input = new("darknet", "fake", "none", [new FuzzFile("model.cfg", "[net]\nwidth=8\n"u8.ToArray()), new FuzzFile("model.weights", new byte[20])]);

    private sealed class FakeTarget(Action<string, string> run) : IFuzzTarget
    {
        public void Run(string definitionPath, string outputDirectory) => run(definitionPath, outputDirectory);
    }

    private static Outcome Run(Action<string, string> target, RunLimits? limits = null)
    {
        using var scratch = new TempFolder();
        return new FuzzRunner(new FakeTarget(target), limits ?? new RunLimits()).Run(Input, scratch.Path);
    }

    [TestMethod]
    public void A_target_that_returns_is_ok() =>
        Assert.AreEqual(Verdict.Ok, Run((_, _) => { }).Verdict);

    [TestMethod]
    public void A_NeuralException_is_coded()
    {
        var outcome = Run((path, _) => throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), "gone"));
        Assert.AreEqual(Verdict.Coded, outcome.Verdict);
        StringAssert.Contains(outcome.Detail, "NM0001");
    }

    [TestMethod]
    public void Any_other_exception_is_a_crash_keyed_by_the_frame_that_threw()
    {
        var outcome = Run((_, _) => ThrowingFrame());
        Assert.AreEqual(Verdict.Crash, outcome.Verdict);
        Assert.AreEqual(typeof(InvalidOperationException).FullName, outcome.ExceptionType);
        StringAssert.EndsWith(outcome.TopFrame, nameof(ThrowingFrame));
        StringAssert.Contains(outcome.Stack, nameof(ThrowingFrame));
    }

    private static void ThrowingFrame() => throw new InvalidOperationException("boom");

    [TestMethod]
    public void Running_out_of_stack_is_a_crash() =>
        Assert.AreEqual(Verdict.Crash, Run((_, _) => throw new InsufficientExecutionStackException()).Verdict);

    [TestMethod]
    public void Running_out_of_memory_is_over_allocation() =>
        Assert.AreEqual(Verdict.OverAllocation, Run((_, _) => throw new OutOfMemoryException()).Verdict);

    [TestMethod]
    public void Allocating_a_gigabyte_for_a_tiny_input_is_over_allocation()
    {
        // 1 GiB in 64 MiB pieces, each dropped at once: the total allocated counts, not what is held.
        var outcome = Run((_, _) =>
        {
            for (var i = 0; i < 16; i++)
            {
                GC.KeepAlive(new byte[64 << 20]);
            }
        });

        Assert.AreEqual(Verdict.OverAllocation, outcome.Verdict);
        Assert.IsGreaterThanOrEqualTo(1L << 30, outcome.AllocatedBytes);
    }

    [TestMethod]
    public void Allocation_that_ends_in_a_coded_error_is_still_over_allocation()
    {
        var outcome = Run((path, _) =>
        {
            for (var i = 0; i < 16; i++)
            {
                GC.KeepAlive(new byte[64 << 20]);
            }

            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(path), "gone");
        });

        Assert.AreEqual(Verdict.OverAllocation, outcome.Verdict);
    }

    [TestMethod]
    public void Allocation_within_the_bound_is_ok() =>
        Assert.AreEqual(Verdict.Ok, Run((_, _) => GC.KeepAlive(new byte[1 << 20])).Verdict);

    [TestMethod]
    public void Rewriting_the_source_definition_is_source_modified()
    {
        var outcome = Run((path, _) => File.AppendAllText(path, "\n"));
        Assert.AreEqual(Verdict.SourceModified, outcome.Verdict);
        StringAssert.Contains(outcome.Detail, "model.cfg (modified)");
    }

    [TestMethod]
    public void Deleting_the_weights_is_source_modified()
    {
        var outcome = Run((path, _) => File.Delete(Path.ChangeExtension(path, ".weights")));
        Assert.AreEqual(Verdict.SourceModified, outcome.Verdict);
        StringAssert.Contains(outcome.Detail, "model.weights (deleted)");
    }

    [TestMethod]
    public void Leaving_a_file_beside_the_source_is_source_modified()
    {
        var outcome = Run((path, _) => File.WriteAllText(path + ".tmp", "half written"));
        Assert.AreEqual(Verdict.SourceModified, outcome.Verdict);
        StringAssert.Contains(outcome.Detail, "model.cfg.tmp (added)");
    }

    [TestMethod]
    public void Writing_into_the_output_folder_changes_nothing_in_the_source() =>
        Assert.AreEqual(Verdict.Ok, Run((_, output) =>
        {
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "model.cfg"), "[net]");
        }).Verdict);

    [TestMethod]
    public void A_target_still_running_after_the_timeout_is_a_hang()
    {
        using var release = new ManualResetEventSlim();
        try
        {
            var outcome = Run((_, _) => release.Wait(TimeSpan.FromSeconds(30)), new RunLimits { Timeout = TimeSpan.FromMilliseconds(200) });
            Assert.AreEqual(Verdict.Hang, outcome.Verdict);
        }
        finally
        {
            release.Set();
        }
    }
}
