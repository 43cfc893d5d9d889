using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using Google.Protobuf;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Passes.Surgery;

/// <summary>Class subset, cut and rename of ONNX models: written, checked by the onnx package's checker, read back and run against the source.</summary>
[TestClass]
public sealed class OnnxSurgeryTests
{
    /// <summary>x (1x3x8x8) → Conv 3→4 → Relu → GlobalAveragePool → Flatten → Gemm (10 classes, transB) → logits → Softmax → prob.</summary>
    private static string Classifier(DarknetFixture fixture)
    {
        var model = Model(13,
            [
                Node("Conv", "conv", ["x", "w", "b"], ["features"], Ints("pads", 1, 1, 1, 1)),
                Node("Relu", "relu", ["features"], ["relu_out"]),
                Node("GlobalAveragePool", "pool", ["relu_out"], ["pooled"]),
                Node("Flatten", "flatten", ["pooled"], ["flat"]),
                Node("Gemm", "fc", ["flat", "fc_w", "fc_b"], ["logits"], Int("transB", 1)),
                Node("Softmax", "softmax", ["logits"], ["prob"], Int("axis", 1)),
            ],
            [Random("w", 1, -1, 1, 4, 3, 3, 3), Random("b", 2, -1, 1, 4), Random("fc_w", 3, -1, 1, 10, 4), Random("fc_b", 4, -1, 1, 10)],
            outputs: "prob");
        model.Graph.Output[0] = Value("prob", [1, 10]);
        var path = Path.Combine(fixture.Folder, "classifier.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    [TestMethod]
    public void An_onnx_classifier_keeps_the_logits_of_its_kept_classes()
    {
        using var fixture = new DarknetFixture();
        var path = Classifier(fixture);
        var result = SurgeryModels.Edit(fixture, path, new ModelSurgery { KeepClasses = [2, 5, 7] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        OnnxChecker.Check(result.OptimizedDefinitionPath);
        var before = ModelFormats.Read(path);
        var after = ModelFormats.Read(result.OptimizedDefinitionPath);
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 1);
        var expected = SurgeryModels.Run(before, input, "logits");
        var actual = SurgeryModels.Run(after, input, "logits");
        CollectionAssert.AreEqual(new[] { expected[2], expected[5], expected[7] }, actual);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedDefinitionPath));
        CollectionAssert.AreEqual(new long[] { 1, 3 }, written.Graph.Output.Single().Type.TensorType.Shape.Dim.Select(d => d.DimValue).ToArray(), "the output declares the kept classes");
    }

    [TestMethod]
    public void An_onnx_rename_changes_node_value_and_initializer_names()
    {
        using var fixture = new DarknetFixture();
        var path = Classifier(fixture);
        var result = SurgeryModels.Edit(fixture, path, new ModelSurgery { Renames = [("conv", "stem"), ("features", "stem_out"), ("fc_w", "classifier_weights"), ("prob", "scores")] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        OnnxChecker.Check(result.OptimizedDefinitionPath);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedDefinitionPath));
        var conv = written.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.AreEqual("stem", conv.Name);
        CollectionAssert.AreEqual(new[] { "stem_out" }, conv.Output.ToArray());
        Assert.AreEqual("stem_out", written.Graph.Node.Single(n => n.OpType == "Relu").Input[0]);
        CollectionAssert.Contains(written.Graph.Initializer.Select(i => i.Name).ToList(), "classifier_weights");
        CollectionAssert.DoesNotContain(written.Graph.Initializer.Select(i => i.Name).ToList(), "fc_w");
        Assert.AreEqual("scores", written.Graph.Output.Single().Name);

        var before = ModelFormats.Read(path);
        var after = ModelFormats.Read(result.OptimizedDefinitionPath);
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 2);
        CollectionAssert.AreEqual(SurgeryModels.Run(before, input, "prob"), SurgeryModels.Run(after, input, "scores"));
        CollectionAssert.AreEqual(SurgeryModels.Run(before, input, "features"), SurgeryModels.Run(after, input, "stem_out"));
    }

    [TestMethod]
    public void An_onnx_model_cut_at_its_logits_delivers_them()
    {
        using var fixture = new DarknetFixture();
        var path = Classifier(fixture);
        var result = SurgeryModels.Edit(fixture, path, new ModelSurgery { Outputs = ["logits", "pooled"] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        OnnxChecker.Check(result.OptimizedDefinitionPath);
        var after = ModelFormats.Read(result.OptimizedDefinitionPath);
        CollectionAssert.AreEqual(new[] { "logits", "pooled" }, after.Graph.Outputs);
        Assert.IsFalse(after.Graph.Nodes.Any(n => n.OpType == "Softmax"));
        var before = ModelFormats.Read(path);
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 3);
        CollectionAssert.AreEqual(SurgeryModels.Run(before, input, "logits"), SurgeryModels.Run(after, input, "logits"));
    }
}
