using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Tool.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural classes</c> and <c>dotnet neural edit</c> end to end, in their own process.</summary>
[TestClass]
public sealed class SurgeryCommandTests
{
    /// <summary>x (1x3x8x8) → Conv 3→5 1x1 (5 classes) → GlobalAveragePool → Flatten → Softmax → prob.</summary>
    private static byte[] Classifier()
    {
        var model = Model(13,
            [
                Node("Conv", "head", ["x", "w", "b"], ["scores"]),
                Node("GlobalAveragePool", "pool", ["scores"], ["pooled"]),
                Node("Flatten", "flatten", ["pooled"], ["flat"]),
                Node("Softmax", "softmax", ["flat"], ["prob"], Int("axis", 1)),
            ],
            [Random("w", 1, -1, 1, 5, 3, 1, 1), Random("b", 2, -1, 1, 5)],
            outputs: "prob");
        model.Graph.Output[0] = Value("prob", [1, 5]);
        return model.ToByteArray();
    }

    /// <summary>Runs <c>classes net.onnx --names names.txt --keep-names keep.txt</c> on the classifier with these files.</summary>
    private static ToolRun ClassesByName(TempDirectory temp, string names, string keep)
    {
        temp.Write("net.onnx", Classifier());
        temp.WriteText("names.txt", names);
        temp.WriteText("keep.txt", keep);
        return ToolProcess.Run(temp.Path, ["classes", "net.onnx", "--names", "names.txt", "--keep-names", "keep.txt", "-o", "out"]);
    }

    [TestMethod]
    public void Classes_keeps_the_named_classes_and_reports_the_edit()
    {
        using var temp = new TempDirectory();
        var run = ClassesByName(temp, "cat\ndog\nbird\nfish\nfrog\n", "fish\ncat\n");

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "KeepClasses: kept 2 of 5 classes (0, 3): 5 -> 2 output channels");
        StringAssert.Contains(run.Stdout, "edit verification (Model");
        StringAssert.Contains(run.Stdout, "passed");
        StringAssert.Contains(run.Stderr, "warning NM2040");
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(temp.Path, "out", "edit-report.md")));
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(temp.Path, "out", "net.onnx"))).Graph;
        CollectionAssert.AreEqual(new long[] { 2, 3, 1, 1 }, graph.Initializer.Single(i => graph.Node[0].Input[1] == i.Name).Dims.ToArray());
    }

    [TestMethod]
    public void Classes_names_an_unknown_class_at_its_line()
    {
        using var temp = new TempDirectory();
        var run = ClassesByName(temp, "cat\ndog\n", "dog\nhorse\n");

        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "keep.txt(2,1): error NM0363: class 'horse'");
        Assert.IsFalse(Directory.Exists(Path.Combine(temp.Path, "out")));
    }

    [TestMethod]
    public void Edit_cuts_and_renames()
    {
        using var temp = new TempDirectory();
        temp.Write("net.onnx", Classifier());

        var run = ToolProcess.Run(temp.Path, ["edit", "net.onnx", "--outputs", "scores", "--rename", "head=classifier", "-o", "out"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stdout, "ChooseOutputs: removed");
        StringAssert.Contains(run.Stdout, "RenameLayers: layer 'head' renamed 'classifier'");
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(temp.Path, "out", "net.onnx"))).Graph;
        Assert.AreEqual("classifier", graph.Node.Single().Name);
        Assert.AreEqual("scores", graph.Output.Single().Name);
    }

    [TestMethod]
    public void Edit_without_an_edit_is_NM0366()
    {
        using var temp = new TempDirectory();
        temp.Write("net.onnx", Classifier());
        var run = ToolProcess.Run(temp.Path, ["edit", "net.onnx", "-o", "out"]);
        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Stderr, "error NM0366: nothing to edit");
    }
}
