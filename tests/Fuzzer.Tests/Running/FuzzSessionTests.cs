using System.Text;
using NeuralBuild.Fuzzer.Running;

namespace NeuralBuild.Fuzzer.Tests.Running;

/// <summary>
/// The deterministic short run of the suite: fixed seeds and fixed input counts per format (about
/// 40-60 s each on the 2-core machine), every input through the whole fuse path. Any crash, hang,
/// over-allocation or modified source fails the test with the reproducer printed.
/// </summary>
[TestClass]
public sealed class FuzzSessionTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("darknet", 1400)]
    [DataRow("caffe", 1300)]
    [DataRow("onnx", 3500)]
    public void Malformed_models_end_in_a_coded_error_or_fuse(string format, int inputs)
    {
        using var scratch = new TempFolder();
        var session = FuzzSession.Create(format, new FuzzRunner(new FuseTarget(), new RunLimits()), scratch.Path);
        Assert.IsEmpty(session.DroppedSeeds, string.Join(Environment.NewLine, session.DroppedSeeds));

        var tally = new Tally(format);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var bugs = new StringBuilder();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (iteration, input, outcome) in session.Run(seed: 20261204, 0, inputs, DateTime.MaxValue))
        {
            tally.Add(outcome.Verdict);
            if (outcome.Verdict.IsBug() && keys.Add(outcome.DedupKey(format)))
            {
                bugs.AppendLine(ReproducerStore.Describe(input, outcome, outcome.DedupKey(format), FuzzSession.RegenerateCommand(format, 20261204, iteration)));
            }
        }

        tally.Elapsed = clock.Elapsed;
        TestContext.WriteLine(tally.ToString());
        Assert.AreEqual(inputs, tally.Inputs, $"the run stopped early (a hang):{Environment.NewLine}{bugs}");
        Assert.AreEqual(0, tally.Bugs, $"{tally}{Environment.NewLine}{bugs}");

        // A run where nothing is refused or nothing fuses would say little about either path.
        Assert.IsGreaterThan(inputs / 20, tally[Verdict.Ok], tally.ToString());
        Assert.IsGreaterThan(inputs / 4, tally[Verdict.Coded], tally.ToString());
    }

    [TestMethod]
    [DataRow("darknet")]
    [DataRow("caffe")]
    [DataRow("onnx")]
    public void An_input_is_the_same_bytes_whenever_it_is_generated(string format)
    {
        using var first = new TempFolder();
        using var second = new TempFolder();
        var a = FuzzSession.Create(format, new FuzzRunner(new FuseTarget(), new RunLimits()), first.Path);
        var b = FuzzSession.Create(format, new FuzzRunner(new FuseTarget(), new RunLimits()), second.Path);

        // Regenerated alone, out of order, in another session: what a restarted worker and the
        // supervisor rely on to save the input a dead worker was running.
        foreach (var iteration in new long[] { 7, 3, 1000, 3 })
        {
            var x = a.Generate(99, iteration);
            var y = b.Generate(99, iteration);
            Assert.AreEqual(x.Mutation, y.Mutation);
            Assert.HasCount(x.Files.Count, y.Files);
            for (var i = 0; i < x.Files.Count; i++)
            {
                CollectionAssert.AreEqual(x.Files[i].Bytes, y.Files[i].Bytes, $"{format} input {iteration}: {x.Files[i].Name}");
            }
        }

        Assert.AreNotEqual(a.Generate(99, 1).Mutation + a.Generate(99, 2).Mutation, a.Generate(100, 1).Mutation + a.Generate(100, 2).Mutation);
    }
}
