using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>End to end on the corpus Caffe networks with seeded synthetic caffemodels.</summary>
[TestClass]
public sealed class CaffeOptimizerTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Copies the corpus prototxt into the fixture folder and writes its seeded caffemodel beside it.</summary>
    private static string Prepare(DarknetFixture fixture, string file, ulong seed)
    {
        var prototxt = Path.Combine(fixture.Folder, file);
        File.Copy(Path.Combine(TestPaths.CaffeCorpus, file), prototxt);
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), Path.ChangeExtension(prototxt, ".caffemodel"), new SyntheticWeightsOptions { Seed = seed });
        return prototxt;
    }

    [TestMethod]
    [DataRow("resnet50.deploy.prototxt")]
    [DataRow("mobilenet_v1.deploy.prototxt")]
    [DataRow("mobilenet_v2.deploy.prototxt")]
    public void Corpus_network_fuses_writes_and_verifies_its_folds(string file)
    {
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, file, 5);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.Layers, OutputDirectory = Path.Combine(fixture.Folder, "out") });

        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
        TestContext.WriteLine($"{file} Layers: {result.Verification.Summary()}");
        var written = File.ReadAllText(result.OptimizedDefinitionPath);
        Assert.DoesNotContain("\"BatchNorm\"", written);
        Assert.DoesNotContain("\"Scale\"", written);
        Assert.IsFalse(result.After.Layers.Any(l => l.Ops.Contains("BatchNormalization") || l.Ops.Contains("ChannelAffine")));
        Assert.AreEqual(result.Before.Totals.Macc, result.After.Totals.Macc);

        // BN's mean and variance and Scale's gamma and beta go (4 values per channel); a conv without
        // a bias gains one (1 value per channel). ResNet-50's conv1 is the one conv that has a bias.
        var bnChannels = result.Before.Layers.Where(l => l.Ops.Contains("BatchNormalization"))
            .Sum(l => long.Parse(l.OutputShape.Split('x')[1], CultureInfo.InvariantCulture));
        var biasedBefore = file.StartsWith("resnet", StringComparison.Ordinal) ? 64 : 0;
        Assert.AreEqual(result.Before.Totals.Params - (4 * bnChannels) + (bnChannels - biasedBefore), result.After.Totals.Params);
    }

    /// <summary>
    /// Whole-model check of the written files. Deep networks with random weights and BatchNorm amplify
    /// float32 rounding with depth (each layer's differences grow through the next), so the bound is
    /// measured, not assumed: the same original network with half of its conv / FC weights moved by one
    /// ulp (mean 0.5 ulp; rounding the folded weights to float32 moves them by at most 0.5) sets the floor, and the fused files must
    /// stay within 4x that floor at every compared layer, and within the default tolerance for the
    /// first layers.
    /// </summary>
    [TestMethod]
    [DataRow("resnet50.deploy.prototxt")]
    [DataRow("mobilenet_v1.deploy.prototxt")]
    [DataRow("mobilenet_v2.deploy.prototxt")]
    public void Written_files_match_the_original_model_within_the_float32_rounding_floor(string file)
    {
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, file, 5);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.None, OutputDirectory = Path.Combine(fixture.Folder, "out") });
        var weights = Path.ChangeExtension(prototxt, ".caffemodel");
        var original = ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = weights });
        var fused = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath });
        var report = Verifier.VerifyModels(original, fused, 1e-5, 1e-4, floorFactor: 0);
        var floorByValue = HalfUlpFloor.Measure(original, () => ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = weights }), out var floor);

        TestContext.WriteLine($"{file} fused files: {report.Summary()}");
        TestContext.WriteLine($"{file} half-ulp floor: {floor.Summary()}");
        Assert.IsGreaterThan(10, report.Comparisons.Count);
        HalfUlpFloor.AssertWithin(report, floorByValue, report.Comparisons.Take(5));
    }

    /// <summary>
    [TestMethod]
    [DataRow("resnet50.deploy.prototxt")]
    [DataRow("mobilenet_v1.deploy.prototxt")]
    [DataRow("mobilenet_v2.deploy.prototxt")]
    [DataRow("mobilenet_ssd.deploy.prototxt")]
    public void Whole_model_verification_passes_at_the_default_tolerance(string file)
    {
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, file, 5);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.Model, OutputDirectory = Path.Combine(fixture.Folder, "out") });

        TestContext.WriteLine(result.Verification!.Summary());
        Assert.IsTrue(result.Verification.Passed, result.Verification.Summary());
        Assert.IsTrue(result.Verification.Comparisons.Take(5).All(c => c.WithinTolerance), "the first layers pass without the floor");
    }

    /// <summary>
    /// The floor does not hide a wrong fold where it is largest, at the last layers: one output
    /// channel of ResNet-50's res5c_branch2c (the last conv) scaled by 1 + 1e-3, a tenth of a
    /// percent, as a fold with a slightly wrong epsilon or variance would do, fails there.
    /// </summary>
    [TestMethod]
    public void A_one_per_mille_channel_error_in_the_last_conv_is_not_rescued_by_the_floor()
    {
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, "resnet50.deploy.prototxt", 5);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = VerifyMode.None, OutputDirectory = Path.Combine(fixture.Folder, "out") });
        var original = ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = Path.ChangeExtension(prototxt, ".caffemodel") });
        var fused = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath });
        var conv = fused.Graph.Nodes.Single(n => n.Name == "res5c_branch2c");
        var weights = fused.Graph.Initializers[conv.Inputs[1]];
        var values = weights.Data!.ToArray();
        var perChannel = values.Length / (int)weights.Shape[0];
        for (var i = 17 * perChannel; i < 18 * perChannel; i++)
        {
            values[i] *= 1.001f;
        }

        weights.Data = new NeuralBuild.Engine.Ir.ArrayData(values);
        var report = Verifier.VerifyModels(original, fused, 1e-5, 1e-4);

        TestContext.WriteLine(report.Summary());
        Assert.IsFalse(report.Passed, report.Summary());
        var failed = report.Comparisons.Where(c => !c.Passed).ToList();
        Assert.IsTrue(failed.All(c => c.RoundingFloor is not null), "the floor was measured and did not cover the error");
        StringAssert.Contains(report.FirstFailure!.Subject, "[Eltwise]", report.Summary()); // res5c = res5b + branch2c, the first shared value after the conv
    }

    [TestMethod]
    public void A_caffemodel_of_another_network_is_a_coded_error_and_writes_nothing()
    {
        using var fixture = new DarknetFixture();
        var resnet = Prepare(fixture, "resnet50.deploy.prototxt", 1);
        var mobilenet = Prepare(fixture, "mobilenet_v1.deploy.prototxt", 1);
        var output = Path.Combine(fixture.Folder, "out");

        var e = Assert.ThrowsExactly<NeuralException>(() => ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = resnet,
            WeightsPath = Path.ChangeExtension(mobilenet, ".caffemodel"),
            OutputDirectory = output,
        }));

        // resnet50's conv1 has a bias, mobilenet's conv1 has none: the first layer matched by name has the wrong blob count.
        Assert.AreEqual(DiagnosticCodes.CaffemodelBlobCount.Code, e.Code, e.ToString());
        Assert.IsGreaterThan(0, e.Location.Line);
        Assert.IsFalse(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    [TestMethod]
    public void A_truncated_caffemodel_is_a_coded_error_and_writes_nothing()
    {
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, "mobilenet_v1.deploy.prototxt", 2);
        var weights = Path.ChangeExtension(prototxt, ".caffemodel");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var output = Path.Combine(fixture.Folder, "out");

        var e = Assert.ThrowsExactly<NeuralException>(() => ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, OutputDirectory = output }));

        Assert.AreEqual(DiagnosticCodes.CaffemodelTruncated.Code, e.Code, e.ToString());
        Assert.IsFalse(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    [TestMethod]
    public void Synthetic_caffemodel_stores_batchnorm_sums_with_their_factor_and_dead_channels()
    {
        // Statistics are measured sums times a factor in [1, 1000]; a few channels (filters scaled by
        // sqrt of a drawn variance in [1e-6, 1e-3]) are dead: their variance stays below 1e-2.
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, "mobilenet_v1.deploy.prototxt", 3);
        var net = NetParameter.Parser.ParseFrom(File.ReadAllBytes(Path.ChangeExtension(prototxt, ".caffemodel")));
        var dead = 0;
        foreach (var bn in net.Layer.Where(l => l.Type == "BatchNorm"))
        {
            var f = bn.Blobs[2].Data[0];
            Assert.IsTrue(f is >= 1f and <= 1000f, bn.Name);
            Assert.IsTrue(bn.Blobs[1].Data.All(v => v >= 0), bn.Name);
            dead += bn.Blobs[1].Data.Count(v => v / f < 1e-2f);
        }

        Assert.IsGreaterThan(0, dead);
    }
}
