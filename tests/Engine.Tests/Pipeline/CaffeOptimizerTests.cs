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
    [DataRow("resnet50.deploy.prototxt", VerifyMode.Layers)]
    [DataRow("resnet50.deploy.prototxt", VerifyMode.Model)]
    [DataRow("mobilenet_v1.deploy.prototxt", VerifyMode.Layers)]
    [DataRow("mobilenet_v1.deploy.prototxt", VerifyMode.Model)]
    [DataRow("mobilenet_v2.deploy.prototxt", VerifyMode.Layers)]
    [DataRow("mobilenet_v2.deploy.prototxt", VerifyMode.Model)]
    public void Corpus_network_fuses_writes_and_verifies(string file, VerifyMode mode)
    {
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, file, 5);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = prototxt, Verify = mode, OutputDirectory = Path.Combine(fixture.Folder, "out") });

        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
        TestContext.WriteLine($"{file} {mode}: {result.Verification.Summary()}");
        var written = File.ReadAllText(result.OptimizedDefinitionPath);
        Assert.DoesNotContain("\"BatchNorm\"", written);
        Assert.DoesNotContain("\"Scale\"", written);
        Assert.IsFalse(result.After.Layers.Any(l => l.Ops.Contains("BatchNormalization") || l.Ops.Contains("Scale")));
        Assert.AreEqual(result.Before.Totals.Macc, result.After.Totals.Macc);

        // BN's mean and variance and Scale's gamma and beta go (4 values per channel); a conv without
        // a bias gains one (1 value per channel). ResNet-50's conv1 is the one conv that has a bias.
        var bnChannels = result.Before.Layers.Where(l => l.Ops.Contains("BatchNormalization"))
            .Sum(l => long.Parse(l.OutputShape.Split('x')[1], CultureInfo.InvariantCulture));
        var biasedBefore = file.StartsWith("resnet", StringComparison.Ordinal) ? 64 : 0;
        Assert.AreEqual(result.Before.Totals.Params - (4 * bnChannels) + (bnChannels - biasedBefore), result.After.Totals.Params);

        if (mode == VerifyMode.Model)
        {
            // The files on disk, not only the graph in memory, compute what the original computes.
            var original = ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = Path.ChangeExtension(prototxt, ".caffemodel") });
            var fused = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath });
            var report = Verifier.VerifyModels(original, fused, 1e-5, 1e-4);
            Assert.IsTrue(report.Passed, report.Summary());
            TestContext.WriteLine($"{file} written files: {report.Summary()}");
        }
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
    public void Synthetic_caffemodel_stores_batchnorm_sums_with_their_factor()
    {
        // The generator's statistics divide back to variances in [0.5, 2] or the dead range [1e-6, 1e-3].
        using var fixture = new DarknetFixture();
        var prototxt = Prepare(fixture, "mobilenet_v1.deploy.prototxt", 3);
        var net = NetParameter.Parser.ParseFrom(File.ReadAllBytes(Path.ChangeExtension(prototxt, ".caffemodel")));
        foreach (var bn in net.Layer.Where(l => l.Type == "BatchNorm"))
        {
            var f = bn.Blobs[2].Data[0];
            Assert.IsGreaterThanOrEqualTo(1f, f);
            Assert.IsTrue(bn.Blobs[1].Data.All(v => v / f is (>= 0.5f and <= 2.0001f) or (>= 0.99e-6f and <= 1.001e-3f)), bn.Name);
        }
    }
}
