using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Passes.Surgery;

/// <summary>
/// <c>classes</c> on ONNX classifier heads: a Gemm (torchvision's ResNet-18), a 1×1 Conv before global
/// pooling and Flatten (SqueezeNet 1.1), a MatMul + Add and a Reshape that drops 1-sized axes. The
/// oracle is ONNX Runtime running the original file: the cut file, run by ONNX Runtime too, must
/// give the kept classes' logits; onnx.checker must accept it.
/// </summary>
[TestClass]
public sealed class OnnxClassifierHeadTests
{
    private static readonly long[] s_kept = [1, 500, 999];

    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("squeezenet1_1")]
    public void A_torchvision_classifier_cut_to_three_classes_gives_their_logits_in_onnx_runtime(string name)
    {
        using var fixture = new DarknetFixture();
        var path = Path.Combine(fixture.Folder, name + ".onnx");
        File.Copy(OnnxExport.PathOf(name), path);

        var result = SurgeryModels.Edit(fixture, path, new ModelSurgery { KeepClasses = s_kept });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        OnnxChecker.Check(result.OptimizedDefinitionPath);
        var input = Seeded(1 * 3 * 224 * 224, 7);
        var original = RunOnnxRuntime(path, input, [1, 3, 224, 224]);
        var cut = RunOnnxRuntime(result.OptimizedDefinitionPath, input, [1, 3, 224, 224]);
        Assert.HasCount(1000, original);
        AssertKept(original, cut, s_kept);
    }

    /// <summary>x (1x3x8x8) → Conv 3→4 → GlobalAveragePool → Reshape(1, -1) → MatMul (4x10) → Add (10) → logits.</summary>
    [TestMethod]
    public void A_matmul_and_add_head_behind_a_reshape_keeps_the_columns_and_bias_entries_of_the_kept_classes()
    {
        using var fixture = new DarknetFixture();
        var model = Model(13,
            [
                Node("Conv", "conv", ["x", "w", "b"], ["features"], Ints("pads", 1, 1, 1, 1)),
                Node("GlobalAveragePool", "pool", ["features"], ["pooled"]),
                Node("Reshape", "reshape", ["pooled", "shape"], ["flat"]),
                Node("MatMul", "matmul", ["flat", "fc_w"], ["product"]),
                Node("Add", "add", ["product", "fc_b"], ["logits"]),
            ],
            [Random("w", 1, -1, 1, 4, 3, 3, 3), Random("b", 2, -1, 1, 4), Int64s("shape", 1, -1), Random("fc_w", 3, -1, 1, 4, 10), Random("fc_b", 4, -1, 1, 10)],
            outputs: "logits");
        model.Graph.Output[0] = Value("logits", [1, 10]);
        var path = Path.Combine(fixture.Folder, "matmul.onnx");
        File.WriteAllBytes(path, model.ToByteArray());

        var result = SurgeryModels.Edit(fixture, path, new ModelSurgery { KeepClasses = [2, 5, 7] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        OnnxChecker.Check(result.OptimizedDefinitionPath);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedDefinitionPath));
        var matMul = written.Graph.Node.Single(n => n.OpType == "MatMul");
        CollectionAssert.AreEqual(new long[] { 4, 3 }, written.Graph.Initializer.Single(i => i.Name == matMul.Input[1]).Dims.ToArray());
        var input = Seeded(3 * 8 * 8, 5);
        AssertKept(RunOnnxRuntime(path, input, [1, 3, 8, 8]), RunOnnxRuntime(result.OptimizedDefinitionPath, input, [1, 3, 8, 8]), [2, 5, 7]);
    }

    [TestMethod]
    public void A_reshape_that_states_the_class_count_is_refused_with_the_writers_reason()
    {
        using var fixture = new DarknetFixture();
        var model = Model(13,
            [
                Node("Conv", "conv", ["x", "w", "b"], ["scores"]),
                Node("GlobalAveragePool", "pool", ["scores"], ["pooled"]),
                Node("Reshape", "reshape", ["pooled", "shape"], ["logits"]),
            ],
            [Random("w", 1, -1, 1, 10, 3, 1, 1), Random("b", 2, -1, 1, 10), Int64s("shape", 1, 10)],
            outputs: "logits");
        model.Graph.Output[0] = Value("logits", [1, 10]);
        var path = Path.Combine(fixture.Folder, "stated.onnx");
        File.WriteAllBytes(path, model.ToByteArray());

        var e = Assert.ThrowsExactly<NeuralBuild.Engine.Diagnostics.NeuralException>(() => SurgeryModels.Edit(fixture, path, new ModelSurgery { KeepClasses = [2, 5] }));
        Assert.AreEqual("NM0362", e.Code);
        // The Reshape's shape (1, 10) would have to say 2: the ONNX writer rewrites initializers, not attributes.
        StringAssert.Contains(e.Message, "'reshape'");
        StringAssert.Contains(e.Message, "rewrites initializers, not attributes");
    }

    /// <summary>Cut channel j is original channel kept[j]: ONNX Runtime may sum a narrower Gemm in another order, so equal within float rounding.</summary>
    private static void AssertKept(float[] original, float[] cut, long[] kept)
    {
        Assert.HasCount(kept.Length, cut);
        for (var j = 0; j < kept.Length; j++)
        {
            var expected = original[kept[j]];
            Assert.AreEqual(expected, cut[j], 1e-5f + (1e-5f * Math.Abs(expected)), $"kept class {kept[j]}");
        }
    }

    private static float[] Seeded(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))];
    }

    private static float[] RunOnnxRuntime(string path, float[] input, int[] dims)
    {
        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), new DenseTensor(input, dims))]);
        return [.. results.Single().AsEnumerable<float>()];
    }
}
