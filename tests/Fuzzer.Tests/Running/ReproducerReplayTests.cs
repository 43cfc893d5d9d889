using NeuralBuild.Fuzzer.Running;

namespace NeuralBuild.Fuzzer.Tests.Running;

/// <summary>
/// Every reproducer the fuzzer found and that was committed under Reproducers/FORMAT/ID/ (model files
/// and reproducer.txt, as the fuzzer saves them) must now end in a coded error or fuse.
/// </summary>
[TestClass]
public sealed class ReproducerReplayTests
{
    private static string Root => Path.Combine(AppContext.BaseDirectory, "Reproducers");

    public static IEnumerable<object[]> Reproducers() =>
        Directory.Exists(Root)
            ? Directory.GetDirectories(Root).SelectMany(Directory.GetDirectories).Order(StringComparer.Ordinal)
                .Select(d => new object[] { Path.GetRelativePath(Root, d) })
            : [];

    [TestMethod]
    [DynamicData(nameof(Reproducers))]
    public void Committed_reproducer_ends_in_a_coded_error_or_fuses(string reproducer)
    {
        using var scratch = new TempFolder();
        var input = ReproducerStore.Load(Path.Combine(Root, reproducer));
        var outcome = new FuzzRunner(new FuseTarget(), new RunLimits()).Run(input, scratch.Path);

        Assert.IsFalse(outcome.Verdict.IsBug(), ReproducerStore.Describe(input, outcome, outcome.DedupKey(input.Format), reproducer));
    }
}
