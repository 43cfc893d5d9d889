using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

/// <summary>
/// A cfg's <c>tree=</c> read into the groups of a hierarchical softmax, as darknet's read_tree cuts a
/// class tree: a new group wherever a line's parent differs from the line before.
/// </summary>
[TestClass]
public sealed class DarknetClassTreeTests
{
    private const string Debian9kTree = "/usr/share/darknet/data/9k.tree";

    private static string Classifier(int classes, string tree) =>
        $"[net]\nwidth=1\nheight=1\nchannels={classes}\n\n[softmax]\ngroups=1\ntree={tree}\n";

    private static SoftmaxAttributes ReadSoftmax(string folder, string cfgText, string name = "net.cfg")
    {
        var cfg = Path.Combine(folder, name);
        File.WriteAllText(cfg, cfgText);
        var model = ModelFormats.Read(cfg, new ModelReadOptions());
        return model.Graph.Nodes.Single(n => n.OpType == "Softmax").AttributesAs<SoftmaxAttributes>();
    }

    [TestMethod]
    public void Groups_are_the_runs_of_consecutive_siblings()
    {
        using var temp = new TempDirectory();
        // Two roots, then three children of class 0, two of class 1, then one more child of class 0:
        // siblings that are not consecutive are separate groups, as in darknet.
        File.WriteAllLines(temp.Combine("t.tree"), ["a -1", "b -1", "a1 0", "a2 0", "a3 0", "b1 1", "b2 1", "a4 0"]);
        var attributes = ReadSoftmax(temp.Path, Classifier(8, "t.tree"));
        CollectionAssert.AreEqual(new long[] { 2, 3, 2, 1 }, attributes.GroupSizes);
        Assert.IsNull(attributes.MissingClassTree);
    }

    [TestMethod]
    public void A_first_class_that_is_not_a_root_makes_an_empty_first_group_as_darknet_does()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(temp.Combine("t.tree"), ["a 1", "b 1"]);
        CollectionAssert.AreEqual(new long[] { 0, 2 }, ReadSoftmax(temp.Path, Classifier(2, "t.tree")).GroupSizes);
    }

    [TestMethod]
    public void A_relative_tree_is_found_beside_the_cfg_or_in_its_parent_folder_as_from_a_darknet_checkout()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Combine("data"));
        Directory.CreateDirectory(temp.Combine("cfg"));
        File.WriteAllLines(Path.Combine(temp.Path, "data", "t.tree"), ["a -1", "b -1", "c -1"]);
        var attributes = ReadSoftmax(temp.Combine("cfg"), Classifier(3, "data/t.tree"));
        CollectionAssert.AreEqual(new long[] { 3 }, attributes.GroupSizes);
    }

    [TestMethod]
    public void Debians_9k_tree_has_the_group_structure_darknet_reads()
    {
        if (!File.Exists(Debian9kTree))
        {
            Assert.Inconclusive($"{Debian9kTree} is installed by Debian's darknet (.ci/run installs it).");
        }

        using var temp = new TempDirectory();
        var sizes = ReadSoftmax(temp.Path, Classifier(9418, Debian9kTree)).GroupSizes;

        // Counted independently of the reader: a new group wherever the second column changes.
        var parents = File.ReadLines(Debian9kTree).Select(l => l.Split(' ')[1]).ToList();
        var expectedGroups = 1 + parents.Zip(parents.Skip(1)).Count(p => p.First != p.Second);
        Assert.HasCount(expectedGroups, sizes);
        Assert.AreEqual(9418L, sizes.Sum());
        Assert.AreEqual(1846, expectedGroups, "9k.tree as Debian ships it");
    }

    [TestMethod]
    public void A_missing_tree_still_reads_and_costs_but_computing_it_is_NM0027_naming_where_it_looked()
    {
        using var temp = new TempDirectory();
        var cfg = temp.Combine("net.cfg");
        File.WriteAllText(cfg, Classifier(4, "data/none.tree"));
        var model = ModelFormats.Read(cfg, new ModelReadOptions());
        var attributes = model.Graph.Nodes.Single(n => n.OpType == "Softmax").AttributesAs<SoftmaxAttributes>();
        Assert.IsTrue(attributes.Hierarchical);
        StringAssert.Contains(attributes.MissingClassTree, Path.Combine(temp.Path, "data", "none.tree"));

        var error = DiagnosticAssert.Throws(DiagnosticCodes.ReferencedFileMissing, () => new ReferenceExecutor(model.Graph).Run(
            new Dictionary<string, Tensor>(StringComparer.Ordinal) { [model.Graph.Inputs.Keys.Single()] = new(Shape.Nchw(1, 4, 1, 1), new float[4]) }));
        Assert.AreEqual(6, error.Diagnostic.Location.Line, "the [softmax] section");
        StringAssert.Contains(error.Diagnostic.Message, "tree= at");
    }

    [TestMethod]
    public void A_parent_beyond_the_last_class_is_NM0034_at_its_line()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(temp.Combine("t.tree"), ["a -1", "b 0", "c 3"]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.ClassTreeMalformed, () => ReadSoftmax(temp.Path, Classifier(3, "t.tree")));
        Assert.AreEqual(3, error.Diagnostic.Location.Line);
        Assert.EndsWith("t.tree", error.Diagnostic.Location.File);
    }

    [TestMethod]
    public void A_parent_that_is_not_a_number_is_NM0034_at_its_column()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(temp.Combine("t.tree"), ["a -1", "bb  x1"]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.ClassTreeMalformed, () => ReadSoftmax(temp.Path, Classifier(2, "t.tree")));
        Assert.AreEqual(2, error.Diagnostic.Location.Line);
        Assert.AreEqual(5, error.Diagnostic.Location.Column);
    }

    [TestMethod]
    public void A_tree_of_another_size_than_the_layer_is_NM0025_at_the_layer()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(temp.Combine("t.tree"), ["a -1", "b -1", "c -1"]);
        var cfg = temp.Combine("net.cfg");
        File.WriteAllText(cfg, Classifier(4, "t.tree"));
        var error = DiagnosticAssert.Throws(DiagnosticCodes.AttributeOutOfRange, () => ModelFormats.Read(cfg, new ModelReadOptions()));
        StringAssert.Contains(error.Diagnostic.Message, "3 classes");
    }
}
