using NeuralBuild.Engine.Execution.Profiling;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Pipeline;

/// <summary>
/// yolov3-tiny profiled on the reference executor, small and briefly. No absolute time is asserted:
/// only that the layers account for the whole forward pass (a property of the measurement, with a
/// generous bound), which layers are measured, and what folding takes away.
/// </summary>
[TestClass]
public sealed class ModelProfilerTests
{
    private static ModelProfile s_profile = null!;
    private static Graph s_graph = null!;
    private static DarknetFixture? s_fixture;

    [ClassInitialize]
    public static void ProfileOnce(TestContext context)
    {
        s_fixture = new DarknetFixture();
        var cfg = Path.Combine(s_fixture.Folder, "yolov3-tiny.cfg");
        File.Copy(TestPaths.Corpus("yolov3-tiny.cfg"), cfg);
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg), Path.ChangeExtension(cfg, ".weights"), new SyntheticWeightsOptions { Seed = 5 });
        var input = Shape.Parse("1x3x96x96");
        s_graph = ModelFormats.Read(cfg, new ModelReadOptions { InputShape = input }).Graph;
        s_profile = ModelProfiler.Profile(new ProfileRequest
        {
            DefinitionPath = cfg,
            InputShape = input,
            Measurement = new ProfileOptions { Runs = 5, Warmup = 1, Threads = 1 },
        });
    }

    [ClassCleanup]
    public static void DeleteModel() => s_fixture?.Dispose();

    /// <remarks>
    /// The property is the measurement's: in each run, the steps the clock timed account for that
    /// run, so a profiler whose steps miss part of the run fails. Each run is compared with itself
    /// (a busy moment lands in both), not the sum of the layers' medians with the median of the
    /// whole: on a machine the test shares with the rest of the suite those two drift apart (every
    /// run has its slow layer somewhere, and the per-layer medians drop it), which the product itself
    /// only warns about (NM2021). A CI run with the other test assemblies beside it once had them
    /// 14% apart in three profiles in a row.
    /// </remarks>
    [TestMethod]
    public void The_steps_of_each_run_account_for_that_whole_run_within_ten_percent()
    {
        foreach (var stage in new[] { s_profile.Before, s_profile.Folded! })
        {
            Assert.IsGreaterThan(0, stage.ForwardPassMilliseconds);
            Assert.AreEqual(stage.LayersMilliseconds, stage.Milliseconds(LayerCategory.Tensor) + stage.Milliseconds(LayerCategory.NonTensor), 1e-9);
            Assert.AreEqual(1.0, stage.Kinds.Sum(k => k.Share), 1e-9);
            Assert.IsNotNull(stage.StepCoverage);
            Assert.IsTrue(stage.StepCoverage is >= 0.90 and <= 1.0, $"the steps cover {stage.StepCoverage:P1} of their runs (median of {stage.Runs})");
        }
    }

    [TestMethod]
    public void Every_node_as_read_is_one_row_and_convolutions_are_the_tensor_layers()
    {
        CollectionAssert.AreEqual(s_graph.Nodes.Select(n => n.Name).ToArray(), s_profile.Before.Layers.Select(l => l.NodeName).ToArray());
        Assert.IsTrue(s_profile.Before.Layers.All(l => (l.Op == "Conv") == (l.Category == LayerCategory.Tensor)), "yolov3-tiny's only tensor layers are its convolutions");
        Assert.AreEqual(5, s_profile.Before.Runs);
        Assert.AreEqual(1, s_profile.Before.Threads);
    }

    [TestMethod]
    public void After_folding_the_batchnorm_rows_are_gone_and_every_other_row_remains()
    {
        // yolov3-tiny.cfg: 11 of its 13 convolutions have batch_normalize=1 (the two before the yolo heads do not).
        var withBatchNorm = File.ReadAllLines(TestPaths.Corpus("yolov3-tiny.cfg")).Count(l => l.Trim() == "batch_normalize=1");
        Assert.AreEqual(11, withBatchNorm);
        Assert.AreEqual(withBatchNorm, s_profile.Before.Layers.Count(l => l.Op == "BatchNormalization"));
        Assert.IsGreaterThan(0, s_profile.Before.Kinds.Single(k => k.Op == "BatchNormalization").Milliseconds);

        var folded = s_profile.Folded!;
        Assert.IsFalse(folded.Layers.Any(l => l.Op == "BatchNormalization"));
        Assert.IsFalse(folded.Kinds.Any(k => k.Op == "BatchNormalization"));
        Assert.AreEqual(withBatchNorm, s_profile.FoldsApplied);
        CollectionAssert.AreEqual(
            s_profile.Before.Layers.Where(l => l.Op != "BatchNormalization").Select(l => l.NodeName).ToArray(),
            folded.Layers.Select(l => l.NodeName).ToArray());
    }
}
