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
    private static string s_cfg = null!;
    private static Shape s_input = null!;
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
        s_cfg = cfg;
        s_input = input;
        s_profile = Profile(runs: 5);
    }

    [ClassCleanup]
    public static void DeleteModel() => s_fixture?.Dispose();

    private static ModelProfile Profile(int runs) => ModelProfiler.Profile(new ProfileRequest
    {
        DefinitionPath = s_cfg,
        InputShape = s_input,
        Measurement = new ProfileOptions { Runs = runs, Warmup = 1, Threads = 1 },
    });

    /// <remarks>
    /// Both sides are measured on a machine the test shares with the rest of the suite, so one busy
    /// moment can open a gap the product itself would only warn about (NM2021). The property is the
    /// measurement's on a quiet moment: up to three profiles are taken, more runs each time, and one
    /// of them must add up. A profiler whose steps miss part of the run fails all three. It runs alone
    /// (not beside the assembly's other tests on the two workers): a quiet CI run once failed all three
    /// profiles while another test ran beside it.
    /// </remarks>
    [TestMethod]
    [DoNotParallelize]
    public void The_layers_add_up_to_the_whole_forward_pass_within_ten_percent()
    {
        var profile = s_profile;
        var deviations = new List<string>();
        for (var attempt = 0; ; attempt++)
        {
            foreach (var stage in new[] { profile.Before, profile.Folded! })
            {
                var sum = stage.Layers.Sum(l => l.MedianMilliseconds);
                Assert.IsGreaterThan(0, stage.ForwardPassMilliseconds);
                Assert.AreEqual(sum, stage.Milliseconds(LayerCategory.Tensor) + stage.Milliseconds(LayerCategory.NonTensor), 1e-9);
                Assert.AreEqual(1.0, stage.Kinds.Sum(k => k.Share), 1e-9);
            }

            var worst = new[] { profile.Before, profile.Folded! }
                .Select(stage => (Deviation: Math.Abs(stage.Layers.Sum(l => l.MedianMilliseconds) - stage.ForwardPassMilliseconds) / stage.ForwardPassMilliseconds, Stage: stage))
                .MaxBy(s => s.Deviation);
            if (worst.Deviation <= 0.10)
            {
                return;
            }

            deviations.Add($"sum of layers {worst.Stage.LayersMilliseconds:0.###} ms, whole forward pass {worst.Stage.ForwardPassMilliseconds:0.###} ms ({worst.Stage.Runs} runs)");
            if (attempt == 2)
            {
                Assert.Fail("the layers never added up to the whole forward pass within 10%: " + string.Join("; ", deviations));
            }

            profile = Profile(runs: 10 * (attempt + 2) + 1);
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
