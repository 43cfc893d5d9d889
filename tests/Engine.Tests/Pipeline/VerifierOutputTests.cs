using Google.Protobuf;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxFoldHarness;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// Whole-model verification compares the model's outputs also when the node that produced one was
/// folded away: in Conv → BatchNormalization the fused graph carries the output in the conv's value,
/// and the check must still compare it (it used to compare nothing and pass).
/// </summary>
[TestClass]
public sealed class VerifierOutputTests
{
    private static ModelProto ConvBn(ulong bnSeed) => Model(13,
        [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)), BatchNorm("bn", "c", "y", "bn")],
        [Random("w", 1, -0.5, 0.5, 4, 3, 3, 3), .. BatchNormParameters("bn", 4, bnSeed)],
        inputDims: [1, 3, 8, 8]);

    private static string Save(TempDirectory dir, string name, ModelProto model)
    {
        var path = dir.Combine(name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    [TestMethod]
    public void A_folded_model_output_is_compared()
    {
        using var dir = new TempDirectory();
        var path = Save(dir, "convbn.onnx", ConvBn(10));
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = path, OutputDirectory = dir.Combine("out"), Verify = VerifyMode.None });

        var report = Verifier.VerifyModels(ModelFormats.Read(path), ModelFormats.Read(result.OptimizedDefinitionPath), 1e-5, 1e-4, floorFactor: 0);

        var output = report.Comparisons.Single(c => c.Subject == "model output");
        Assert.AreEqual("y", output.Output);
        Assert.IsTrue(report.Passed, report.Summary());
    }

    [TestMethod]
    public void A_wrong_model_output_fails_at_the_output()
    {
        // The fused file of one model checked against a model whose BatchNorm differs: only the
        // output (the BatchNorm's value) can show it, as the conv's own value is not the same thing.
        using var dir = new TempDirectory();
        var fused = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = Save(dir, "a.onnx", ConvBn(10)), OutputDirectory = dir.Combine("out"), Verify = VerifyMode.None });
        var other = ModelFormats.Read(Save(dir, "b.onnx", ConvBn(20)));

        var report = Verifier.VerifyModels(other, ModelFormats.Read(fused.OptimizedDefinitionPath), 1e-5, 1e-4, floorFactor: 0);

        Assert.IsFalse(report.Passed, report.Summary());
        Assert.IsFalse(report.Comparisons.Single(c => c.Subject == "model output").Passed);
    }
}
