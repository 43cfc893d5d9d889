using System.Globalization;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// <c>fuse</c> on the torchvision exports (export_models.py: torchvision's initialisation, BN
/// statistics measured on random batches). The written file must re-read through our reader, pass
/// ONNX's own checker (the independent check of validity), hold no BatchNormalization that follows
/// a conv or Gemm, and compute what the original computes (our executor on both, same seeded input).
/// </summary>
[TestClass]
public sealed class OnnxOptimizerTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// BatchNormalizations that follow no conv: DenseNet's pre-activation BNs read a Concat (one per
    /// dense layer, 6 + 12 + 24 + 16 = 58), a transition's BN reads the pooled Concat (3), and norm5
    /// reads the last Concat (1). They cannot fold backwards, and the conv after them comes after a ReLU.
    /// </summary>
    private static int Unfoldable(string model) => model == "densenet121" ? 58 + 3 + 1 : 0;

    [TestMethod]
    [DynamicData(nameof(OnnxExport.EachModel), typeof(OnnxExport))]
    public void Fuse_removes_every_batchnorm_after_a_conv_and_writes_a_model_onnx_accepts(string name)
    {
        using var dir = new TempDirectory();
        var path = OnnxExport.PathOf(name);

        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = path, OutputDirectory = dir.Path, Verify = VerifyMode.Layers });

        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
        var source = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedDefinitionPath)).Graph;
        var producers = written.Node.SelectMany(n => n.Output.Select(o => (o, n.OpType))).ToDictionary(p => p.o, p => p.OpType);
        var remaining = written.Node.Where(n => n.OpType == "BatchNormalization").ToList();
        Assert.HasCount(Unfoldable(name), remaining);
        Assert.IsTrue(remaining.All(bn => producers.GetValueOrDefault(bn.Input[0]) is not ("Conv" or "ConvTranspose" or "Gemm")), "a BN left after a conv or Gemm");
        Assert.HasCount(Unfoldable(name), result.Passes.NotApplied.Where(e => e.Origin.Kind == "BatchNormalization").ToList());

        // Every folded BN drops its 4 x C stored values; its conv (bias=False in torchvision) gains C.
        var removed = source.Node.Where(n => n.OpType == "BatchNormalization").Select(n => n.Name).Except(remaining.Select(n => n.Name)).ToHashSet();
        var channels = source.Node.Where(n => removed.Contains(n.Name)).Sum(n => source.Initializer.Single(t => t.Name == n.Input[1]).Dims[0]);
        Assert.AreEqual(result.Before.Totals.Params - (3 * channels), result.After.Totals.Params);
        Assert.AreEqual(result.Before.Totals.Macc, result.After.Totals.Macc);

        var check = OnnxChecker.Check(result.OptimizedDefinitionPath);
        Assert.AreEqual(written.Node.Count, int.Parse(check.Split(' ')[0], CultureInfo.InvariantCulture), check);
        TestContext.WriteLine($"{name}: {removed.Count} BatchNormalization folded, {remaining.Count} left; {source.Node.Count} -> {written.Node.Count} nodes; onnx.checker: passed; {result.Verification.Summary()}");
    }

    [TestMethod]
    public void Fused_resnet18_holds_torchvision_s_published_parameters_less_one_bn_shift_per_channel()
    {
        // torchvision publishes 11,689,512 parameters, BN scale and shift included, running
        // statistics not. Folding keeps one bias per BN channel (4,800 channels, see
        // OnnxPublishedFiguresTests) in place of scale and shift: 11,689,512 - 4,800.
        using var dir = new TempDirectory();
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = OnnxExport.PathOf("resnet18"), OutputDirectory = dir.Path, Verify = VerifyMode.None });
        Assert.AreEqual(11_689_512L - 4_800L, result.After.Totals.Params);
    }

    /// <summary>
    /// Whole-model check of the written file against the original, both run by our executor on one
    /// seeded input, every layer both graphs still have compared. Deep networks amplify float32
    /// rounding with depth (docs/design-notes.md), so where the default tolerance is exceeded the
    /// bound is measured, not assumed, as in <see cref="CaffeOptimizerTests"/>: the original network
    /// with half its conv / Gemm weights moved by one ulp (folding rounds each weight by at most half
    /// an ulp) sets the floor, and the fused file must stay within 4x that floor at every compared
    /// layer, and within the default tolerance for the first layers.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(OnnxExport.EachModel), typeof(OnnxExport))]
    public void The_written_fused_model_computes_what_the_original_computes(string name)
    {
        using var dir = new TempDirectory();
        var path = OnnxExport.PathOf(name);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = path, OutputDirectory = dir.Path, Verify = VerifyMode.None });
        var original = ModelFormats.Read(path);

        var report = Verifier.VerifyModels(original, ModelFormats.Read(result.OptimizedDefinitionPath), 1e-5, 1e-4, floorFactor: 0);

        TestContext.WriteLine($"{name} fused file: {report.Summary()}");
        Assert.IsGreaterThan(10, report.Comparisons.Count);
        if (report.Passed)
        {
            return;
        }

        var floorByValue = HalfUlpFloor.Measure(original, () => ModelFormats.Read(path), out var floor);
        TestContext.WriteLine($"{name} half-ulp floor: {floor.Summary()}");
        HalfUlpFloor.AssertWithin(report, floorByValue, report.Comparisons.Where(c => c.Subject.StartsWith("layer", StringComparison.Ordinal)).Take(5));
    }
}
