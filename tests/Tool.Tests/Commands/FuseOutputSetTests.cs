using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>dotnet neural fuse -o DIR</c> into a folder that already holds an older output: the new set
/// (definition, weights, fuse-report.md) replaces the old one as a unit, or not at all.
/// </summary>
[TestClass]
public sealed class FuseOutputSetTests
{
    /// <summary>One conv with BatchNorm (3x3, 3->4) and weights written by hand: 4 biases, 4 scales,
    /// 4 means, 4 variances, 108 weights after darknet's 20-byte header (version 0.2.0).</summary>
    private const string Cfg = "[net]\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=leaky\n";

    private static void WriteModel(TempDirectory temp)
    {
        temp.WriteText("m.cfg", Cfg);
        var floats = new float[4 + 4 + 4 + 4 + 108];
        for (var i = 0; i < floats.Length; i++)
        {
            floats[i] = ((i * 37 % 17) - 8) / 16f;
        }

        for (var i = 12; i < 16; i++)
        {
            floats[i] = 0.5f + i; // variances: positive
        }

        var bytes = new byte[20 + (floats.Length * 4)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 2);
        Buffer.BlockCopy(floats, 0, bytes, 20, floats.Length * 4);
        temp.Write("m.weights", bytes);
    }

    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertSame(Dictionary<string, byte[]> expected, string folder)
    {
        var actual = Snapshot(folder);
        CollectionAssert.AreEquivalent(expected.Keys.ToArray(), actual.Keys.ToArray());
        foreach (var (name, bytes) in expected)
        {
            CollectionAssert.AreEqual(bytes, actual[name], name);
        }
    }

    private static void AssertNoStaging(string parent) =>
        Assert.IsEmpty(Directory.GetDirectories(parent, ".*staging*"), "no staging folder left behind");

    [TestMethod]
    public void A_weights_path_held_by_a_folder_leaves_the_old_set_byte_identical_with_NM0070()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);
        var output = Path.Combine(temp.Path, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "m.cfg"), "old definition\n");
        File.WriteAllText(Path.Combine(output, "fuse-report.md"), "old report\n");
        Directory.CreateDirectory(Path.Combine(output, "m.weights")); // a folder where the weights go
        var before = Snapshot(output);

        var run = ToolProcess.Run(temp.Path, "fuse", "m.cfg", "-o", "out");

        var weights = Path.Combine(output, "m.weights");
        CommandRunnerTests.AssertOneErrorLine(run, $"{weights}: error NM0070: Cannot write '{weights}': a folder has that name.");
        AssertSame(before, output);
        Assert.IsTrue(Directory.Exists(weights));
        AssertNoStaging(temp.Path);
    }

    [TestMethod]
    public void A_successful_fuse_replaces_every_member_of_the_old_set_and_keeps_other_files()
    {
        using var temp = new TempDirectory();
        WriteModel(temp);
        // The reference: the same fuse into an empty folder.
        var fresh = ToolProcess.Run(temp.Path, "fuse", "m.cfg", "-o", "fresh");
        Assert.AreEqual(0, fresh.ExitCode, fresh.ToString());
        var output = Path.Combine(temp.Path, "out");
        Directory.CreateDirectory(output);
        foreach (var name in new[] { "m.cfg", "m.weights", "fuse-report.md" })
        {
            File.WriteAllText(Path.Combine(output, name), "old " + name);
        }

        File.WriteAllText(Path.Combine(output, "notes.txt"), "mine");

        var run = ToolProcess.Run(temp.Path, "fuse", "m.cfg", "-o", "out");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var reference = Snapshot(Path.Combine(temp.Path, "fresh"));
        CollectionAssert.AreEquivalent(new[] { "m.cfg", "m.weights", "fuse-report.md" }, reference.Keys.ToArray());
        CollectionAssert.AreEqual(reference["m.cfg"], File.ReadAllBytes(Path.Combine(output, "m.cfg")));
        CollectionAssert.AreEqual(reference["m.weights"], File.ReadAllBytes(Path.Combine(output, "m.weights")));
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(output, "fuse-report.md")), "the report joined the set");
        Assert.AreEqual("mine", File.ReadAllText(Path.Combine(output, "notes.txt")), "files outside the set are untouched");
        AssertNoStaging(temp.Path);
    }
}
