using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// <see cref="ModelOptimizer"/> writes its output as one <see cref="OutputSet"/>: into a folder
/// holding an older set, the result is the complete new set or the complete old one, never a mix,
/// and no staging folder is left. Failures are forced where they are hardest to undo: while the
/// members are being moved into place (a hook that throws between moves).
/// </summary>
[TestClass]
public sealed class OutputSetTests
{
    /// <summary>conv 3x3, 3->4 with BatchNorm on 8x8x3; 4 biases, scales, means, variances then 108 weights.</summary>
    private const string Cfg = "[net]\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=leaky\n";

    private static (DarknetFixture Fixture, OptimizeRequest Request) Model(string outputName = "out")
    {
        var fixture = new DarknetFixture();
        var floats = Enumerable.Range(0, 124).Select(i => i is >= 12 and < 16 ? 0.5f + i : ((i * 37 % 17) - 8) / 16f).ToArray();
        fixture.Create(Cfg, floats);
        return (fixture, new OptimizeRequest { DefinitionPath = fixture.Cfg, WeightsPath = fixture.Weights, OutputDirectory = Path.Combine(fixture.Folder, outputName) });
    }

    /// <summary>An older output: a definition, weights and a report that are not what this fuse writes.</summary>
    private static Dictionary<string, byte[]> OldSet(string folder)
    {
        Directory.CreateDirectory(folder);
        var old = new Dictionary<string, byte[]>
        {
            ["model.cfg"] = "[net]\n# old definition\n"u8.ToArray(),
            ["model.weights"] = [1, 2, 3, 4, 5],
            ["fuse-report.md"] = "old report\n"u8.ToArray(),
        };
        foreach (var (name, bytes) in old)
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }

        return old;
    }

    private static void AssertHolds(Dictionary<string, byte[]> expected, string folder)
    {
        CollectionAssert.AreEquivalent(expected.Keys.ToArray(), Directory.GetFiles(folder).Select(Path.GetFileName).ToArray());
        foreach (var (name, bytes) in expected)
        {
            CollectionAssert.AreEqual(bytes, File.ReadAllBytes(Path.Combine(folder, name)), name);
        }
    }

    private static void AssertNoStaging(DarknetFixture fixture) =>
        Assert.IsEmpty(Directory.GetDirectories(fixture.Folder, ".*"), "no staging folder left behind");

    [TestMethod]
    public void A_successful_optimisation_replaces_the_old_set_with_what_an_empty_folder_receives()
    {
        var (fixture, request) = Model();
        using var _ = fixture;
        var reference = ModelOptimizer.Optimize(request with { OutputDirectory = Path.Combine(fixture.Folder, "fresh") });
        var old = OldSet(request.OutputDirectory);

        var result = ModelOptimizer.Optimize(request);

        Assert.AreEqual(Path.Combine(request.OutputDirectory, "model.cfg"), result.OptimizedDefinitionPath);
        CollectionAssert.AreEqual(File.ReadAllBytes(reference.OptimizedDefinitionPath), File.ReadAllBytes(result.OptimizedDefinitionPath));
        CollectionAssert.AreEqual(File.ReadAllBytes(reference.OptimizedWeightsPath), File.ReadAllBytes(result.OptimizedWeightsPath));
        CollectionAssert.AreEqual(old["fuse-report.md"], File.ReadAllBytes(Path.Combine(request.OutputDirectory, "fuse-report.md")), "not a member: untouched");
        AssertNoStaging(fixture);
    }

    [TestMethod]
    public void A_folder_where_the_weights_go_is_NM0070_before_anything_is_replaced()
    {
        var (fixture, request) = Model();
        using var _ = fixture;
        var old = OldSet(request.OutputDirectory);
        File.Delete(Path.Combine(request.OutputDirectory, "model.weights"));
        old.Remove("model.weights");
        var blocking = Path.Combine(request.OutputDirectory, "model.weights");
        Directory.CreateDirectory(blocking);

        var error = DiagnosticAssert.Throws(DiagnosticCodes.CannotWriteOutput, () => ModelOptimizer.Optimize(request));

        Assert.AreEqual(blocking, error.Location.File);
        Assert.Contains("a folder has that name", error.Message);
        AssertHolds(old, request.OutputDirectory);
        AssertNoStaging(fixture);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void A_write_failing_while_members_move_in_puts_the_whole_old_set_back(int failingMove)
    {
        var (fixture, request) = Model();
        using var _ = fixture;
        var old = OldSet(request.OutputDirectory);
        using var set = OutputSet.Begin(request.OutputDirectory);
        ModelOptimizer.Optimize(request, set);
        set.WriteText("fuse-report.md", "new report\n");
        var moves = 0;
        string? failedAt = null;
        set.BeforeMove = final =>
        {
            if (++moves > failingMove)
            {
                failedAt = final;
                throw new IOException($"No space left on device : '{final}'");
            }
        };

        var error = DiagnosticAssert.Throws(DiagnosticCodes.CannotWriteOutput, set.Commit);

        Assert.AreEqual(failedAt, error.Location.File);
        Assert.Contains("No space left on device", error.Message);
        Assert.Contains("Nothing was replaced", error.Message);
        AssertHolds(old, request.OutputDirectory);
        set.Dispose();
        AssertNoStaging(fixture);
    }

    [TestMethod]
    public void A_bug_while_members_move_in_also_restores_the_old_set_and_is_not_disguised()
    {
        var (fixture, request) = Model();
        using var _ = fixture;
        var old = OldSet(request.OutputDirectory);
        using (var set = OutputSet.Begin(request.OutputDirectory))
        {
            ModelOptimizer.Optimize(request, set);
            var moves = 0;
            set.BeforeMove = _ =>
            {
                if (++moves == 2)
                {
                    throw new InvalidOperationException("bug");
                }
            };

            Assert.ThrowsExactly<InvalidOperationException>(set.Commit);
        }

        AssertHolds(old, request.OutputDirectory);
        AssertNoStaging(fixture);
    }

    [TestMethod]
    public void An_uncommitted_set_leaves_the_target_untouched_and_no_staging()
    {
        var (fixture, request) = Model();
        using var _ = fixture;
        using (var set = OutputSet.Begin(request.OutputDirectory))
        {
            ModelOptimizer.Optimize(request, set);
            Assert.IsNotEmpty(set.Staged());
        }

        Assert.IsFalse(Directory.Exists(request.OutputDirectory));
        AssertNoStaging(fixture);
    }

    [TestMethod]
    public void A_definition_the_system_refuses_to_read_is_NM0071_naming_it()
    {
        var (fixture, request) = Model();
        using var _ = fixture;
        // A file that exists but that the OS refuses to read, even for root: this process's memory
        // at address 0 (unmapped), read through /proc, fails with EIO.
        var definition = Path.Combine(fixture.Folder, "unreadable.cfg");
        File.CreateSymbolicLink(definition, "/proc/self/mem");

        var error = DiagnosticAssert.Throws(DiagnosticCodes.CannotReadFile, () => ModelOptimizer.Optimize(request with { DefinitionPath = definition }));

        Assert.AreEqual(definition, error.Location.File);
        Assert.StartsWith($"Cannot read '{definition}': ", error.Message);
        Assert.IsFalse(Directory.Exists(request.OutputDirectory), "nothing written");
        AssertNoStaging(fixture);
    }
}
