using System.Buffers.Binary;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Pipeline;

[TestClass]
public sealed class ModelOptimizerTests
{
    private static string Weights(DarknetFixture fixture, string cfg, ulong seed)
    {
        var path = Path.Combine(fixture.Folder, Path.GetFileNameWithoutExtension(cfg) + ".weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), path, new SyntheticWeightsOptions { Seed = seed });
        return path;
    }

    [TestMethod]
    [DataRow(VerifyMode.Layers)]
    [DataRow(VerifyMode.Model)]
    public void Yolov3_tiny_fuses_and_verifies(VerifyMode mode)
    {
        using var fixture = new DarknetFixture();
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = Weights(fixture, cfg, 11),
            Verify = mode,
            OutputDirectory = Path.Combine(fixture.Folder, "out"),
        });

        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
        Assert.IsFalse(result.After.Layers.Any(l => l.Ops.Contains("BatchNormalization")));
        // 11 of the 13 convolutions carry BN; folding drops 3 stored floats (scale, mean, variance) per BN channel.
        var bnChannels = result.Before.Layers.Where(l => l.Ops.Contains("BatchNormalization")).Sum(l => long.Parse(l.OutputShape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual(result.Before.Totals.Params - (3 * bnChannels), result.After.Totals.Params);
        Assert.AreEqual(result.Before.Totals.Macc, result.After.Totals.Macc);
        Assert.IsTrue(File.Exists(result.OptimizedWeightsPath));
    }

    [TestMethod]
    public void Each_phase_is_announced_as_it_starts_and_ends_in_the_order_the_report_times_them()
    {
        using var fixture = new DarknetFixture();
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        var progress = new RecordingProgress();
        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = Weights(fixture, cfg, 13),
            Verify = VerifyMode.Layers,
            ExportFormat = "onnx",
            OutputDirectory = Path.Combine(fixture.Folder, "out"),
            Progress = progress,
        });

        string[] phases = ["read and analyse", "passes", "verify", "write", "re-read and analyse", "export, read back and verify"];
        CollectionAssert.AreEqual(phases.SelectMany(p => new[] { "start " + p, "end " + p }).ToArray(), progress.Events);
        CollectionAssert.AreEqual(phases, result.Timings.Select(t => t.Phase).ToArray());
        CollectionAssert.AreEqual(result.Timings.Select(t => t.Time).ToArray(), progress.Elapsed);
    }

    private sealed class RecordingProgress : IPipelineProgress
    {
        public List<string> Events { get; } = [];

        public List<TimeSpan> Elapsed { get; } = [];

        public void PhaseStarted(string phase) => Events.Add("start " + phase);

        public void PhaseFinished(string phase, TimeSpan elapsed)
        {
            Events.Add("end " + phase);
            Elapsed.Add(elapsed);
        }
    }

    [TestMethod]
    public void A_corrupted_weight_is_caught_at_the_layer_that_holds_it()
    {
        using var fixture = new DarknetFixture();
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        var weights = Weights(fixture, cfg, 12);
        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = cfg, WeightsPath = weights, Verify = VerifyMode.None, OutputDirectory = Path.Combine(fixture.Folder, "out") });

        // Flip the sign of one weight of layer 13 in the fused file (offset from the fused model's own layout).
        var fused = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath });
        var slice = (NeuralBuild.Engine.Ir.FileSliceData)fused.Graph.Initializers["layer13/weights"].Data!;
        using (var stream = File.Open(result.OptimizedWeightsPath, FileMode.Open))
        {
            var bytes = new byte[4];
            stream.Position = slice.Offset + 400;
            stream.ReadExactly(bytes);
            BinaryPrimitives.WriteSingleLittleEndian(bytes, -BinaryPrimitives.ReadSingleLittleEndian(bytes) - 1f);
            stream.Position = slice.Offset + 400;
            stream.Write(bytes);
        }

        var report = Verifier.VerifyModels(
            ModelFormats.Read(cfg, new ModelReadOptions { WeightsPath = weights }),
            ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath }),
            1e-5, 1e-4);

        Assert.IsFalse(report.Passed);
        StringAssert.StartsWith(report.FirstFailure!.Subject, "layer 13 [convolutional]");
        Assert.IsTrue(report.Comparisons.Where(c => c.Subject.StartsWith("layer 12 ", StringComparison.Ordinal)).All(c => c.Passed));
    }

    [TestMethod]
    public void Failed_verification_is_a_coded_error_and_writes_nothing()
    {
        using var fixture = new DarknetFixture();
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        var output = Path.Combine(fixture.Folder, "out");

        // Zero tolerance: float rounding of the folded weights alone must fail it.
        var error = Assert.ThrowsExactly<NeuralException>(() => ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = Weights(fixture, cfg, 13),
            Verify = VerifyMode.Layers,
            AbsoluteTolerance = 0,
            RelativeTolerance = 0,
            OutputDirectory = output,
        }));

        Assert.AreEqual("NM0041", error.Code);
        StringAssert.Contains(error.Message, "first over tolerance: layer");
        Assert.IsFalse(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }
}
