namespace NeuralBuild.Tool.Tests;

/// <summary>
/// The tool's progress: silent for a quick phase, a line for a phase still running after the delay and
/// its time when it ends. No timing is asserted: the test waits for the announcement instead of sleeping.
/// </summary>
[TestClass]
public sealed class ConsoleProgressTests
{
    [TestMethod]
    public void A_phase_that_ends_before_the_delay_prints_nothing()
    {
        var writer = new StringWriter();
        using var progress = new ConsoleProgress(writer, "/m/yolo.cfg", TimeSpan.FromMinutes(10));

        progress.PhaseStarted("verify");
        progress.PhaseFinished("verify", TimeSpan.FromMilliseconds(20));

        Assert.AreEqual(string.Empty, writer.ToString());
    }

    [TestMethod]
    public void A_phase_still_running_after_the_delay_is_announced_and_its_time_given_when_it_ends()
    {
        var writer = new SynchronizedWriter();
        using var progress = new ConsoleProgress(writer, "/m/yolo.cfg", TimeSpan.FromMilliseconds(1));

        progress.PhaseStarted("verify");
        Assert.IsTrue(SpinWait.SpinUntil(() => writer.ToString().Length > 0, TimeSpan.FromSeconds(30)), "announced");
        progress.PhaseFinished("verify", TimeSpan.FromSeconds(4.2));

        var lines = writer.ToString().ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        CollectionAssert.AreEqual(new[] { "yolo.cfg: verify…", "yolo.cfg: verify: 4.2 s" }, lines);
    }

    /// <summary>The timer writes from another thread.</summary>
    private sealed class SynchronizedWriter : StringWriter
    {
        private readonly Lock _lock = new();

        public override void WriteLine(string? value)
        {
            lock (_lock)
            {
                base.WriteLine(value);
            }
        }

        public override string ToString()
        {
            lock (_lock)
            {
                return base.ToString();
            }
        }
    }
}
