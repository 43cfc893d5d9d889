using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Execution;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Dead-channel pruning on Darknet models whose BatchNorm zeroes chosen channels (gamma = 0): the
/// channels removed are exactly those, the MACC saved is counted by hand, and libdarknet computes
/// the same output from the pruned files as from the original ones.
/// </summary>
[TestClass]
public sealed class PruneDeadChannelsTests
{
    private const string Net = "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n\n";

    /// <summary>
    /// Layers: 0 conv 3→8 3x3 (dead 1, 5); 1 maxpool 2/2; 2 conv 8→8 3x3 (dead 2); 3 upsample 2;
    /// 4 route -1,-4 (layer 2's 8 channels, then layer 0's 8); 5 conv 16→8 1x1 (dead 3);
    /// 6 conv 8→8 3x3 (dead 3 and 6); 7 shortcut -2 (5 + 6: channel 3 dead on both sides, 6 only on
    /// one, so 6 stays); 8 conv 8→4 1x1 linear, the output.
    /// </summary>
    private const string Cfg = Net +
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[maxpool]\nsize=2\nstride=2\n\n" +
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[upsample]\nstride=2\n\n" +
        "[route]\nlayers=-1,-4\n\n" +
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=1\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[shortcut]\nfrom=-2\nactivation=linear\n\n" +
        "[convolutional]\nfilters=4\nsize=1\nstride=1\npad=1\nactivation=linear\n";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Darknet_channels_zeroed_by_batchnorm_are_removed_exactly_and_libdarknet_agrees()
    {
        using var temp = new TempDirectory();
        var weights = new DarknetWeights(seed: 11);
        weights.Conv(3, 8, 3, dead: [1, 5]);
        weights.Conv(8, 8, 3, dead: [2]);
        weights.Conv(16, 8, 1, dead: [3]);
        weights.Conv(8, 8, 3, dead: [3, 6]);
        weights.Conv(8, 4, 1, batchNormalize: false);
        var (cfg, weightsPath) = weights.Write(temp, "dead", Cfg);

        var result = Prune(cfg, weightsPath, temp.Combine("out"));
        foreach (var line in result.PassLog.Where(l => l.Contains("PruneDeadChannels", StringComparison.Ordinal)))
        {
            TestContext.WriteLine(line);
        }

        // Removed output channels per conv layer, and the channels the next layers read.
        var removed = result.Passes.Pruning.ToDictionary(p => p.Origin.Index);
        Assert.AreEqual(2, removed[0].OutputChannelsRemoved);
        Assert.AreEqual((1, 2), (removed[2].OutputChannelsRemoved, removed[2].InputChannelsRemoved));
        Assert.AreEqual((1, 3), (removed[5].OutputChannelsRemoved, removed[5].InputChannelsRemoved));
        Assert.AreEqual((1, 1), (removed[6].OutputChannelsRemoved, removed[6].InputChannelsRemoved));
        Assert.AreEqual((0, 1), (removed[8].OutputChannelsRemoved, removed[8].InputChannelsRemoved));
        StringAssert.Contains(File.ReadAllText(result.OptimizedDefinitionPath), "filters=6");
        var kept = result.Passes.NotApplied.Single(e => e.Pass == "PruneDeadChannels");
        Assert.AreEqual(6, kept.Origin.Index, kept.ToString());
        StringAssert.Contains(kept.Detail, "which is not constant", "channel 6 of layer 6 meets a live channel 6 of layer 5 at the shortcut");

        // MACC by hand: kernel area x input channels x output channels x output positions.
        long Conv(long k, long cin, long cout, long side) => k * k * cin * cout * side * side;
        var before = Conv(3, 3, 8, 16) + Conv(3, 8, 8, 8) + Conv(1, 16, 8, 16) + Conv(3, 8, 8, 16) + Conv(1, 8, 4, 16);
        var after = Conv(3, 3, 6, 16) + Conv(3, 6, 7, 8) + Conv(1, 13, 7, 16) + Conv(3, 7, 7, 16) + Conv(1, 7, 4, 16);
        Assert.AreEqual(before, result.Before.Totals.Macc);
        Assert.AreEqual(after, result.After.Totals.Macc);
        Assert.AreEqual(before - after, result.Passes.Pruning.Sum(p => p.MaccSaved));

        // The written model, run by libdarknet, computes what the original computes.
        AssertLibdarknetAgrees(cfg, weightsPath, result, temp, Shape.Nchw(1, 4, 16, 16), layer: 8, seed: 5);
        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
    }

    [TestMethod]
    public void A_constant_nonzero_channel_read_by_a_padded_conv_is_kept_with_the_reason()
    {
        using var temp = new TempDirectory();
        var (cfg, weightsPath) = TwoConvs(temp, "padded", seed: 3, deadBeta: 0.5f, consumerSize: 3);

        var result = Prune(cfg, weightsPath, temp.Combine("out"));

        Assert.IsEmpty(result.Passes.Pruning);
        var refusal = result.Passes.NotApplied.Single(e => e.Pass == "PruneDeadChannels");
        StringAssert.Contains(refusal.Detail, "constant 0.5");
        StringAssert.Contains(refusal.Detail, "pads its input with zeros");
    }

    [TestMethod]
    public void A_constant_nonzero_channel_read_by_a_1x1_conv_folds_into_its_bias_and_libdarknet_agrees()
    {
        using var temp = new TempDirectory();
        var (cfg, weightsPath) = TwoConvs(temp, "unpadded", seed: 4, deadBeta: 0.5f, consumerSize: 1);

        var result = Prune(cfg, weightsPath, temp.Combine("out"));

        Assert.AreEqual(1, result.Passes.Pruning.Single(p => p.Origin.Index == 0).OutputChannelsRemoved);
        StringAssert.Contains(result.Passes.Applied.Single(e => e.Pass == "PruneDeadChannels" && e.Origin.Index == 1).Detail, "folded into the bias");
        AssertLibdarknetAgrees(cfg, weightsPath, result, temp, Shape.Nchw(1, 2, 16, 16), layer: 1, seed: 6);
    }

    /// <summary>
    /// conv 3→4 3x3 (dead 2) → connected 4*16*16 → 6 with BatchNorm (dead 0 and 4) → connected 6 → 3:
    /// the first connected layer loses the 256 columns of channel 2 and two rows, the second two columns.
    /// </summary>
    [TestMethod]
    public void Darknet_connected_layers_lose_rows_and_the_columns_of_a_dead_conv_channel_and_libdarknet_agrees()
    {
        using var temp = new TempDirectory();
        var weights = new DarknetWeights(seed: 8);
        weights.Conv(3, 4, 3, dead: [2]);
        weights.Connected(4 * 16 * 16, 6, dead: [0, 4]);
        weights.Connected(6, 3, batchNormalize: false);
        var (cfg, weightsPath) = weights.Write(temp, "fc", Net +
            "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
            "[connected]\nbatch_normalize=1\noutput=6\nactivation=leaky\n\n" +
            "[connected]\noutput=3\nactivation=linear\n");

        var result = Prune(cfg, weightsPath, temp.Combine("out"));

        var removed = result.Passes.Pruning.ToDictionary(p => p.Origin.Index);
        Assert.AreEqual((2, 1), (removed[1].OutputChannelsRemoved, removed[1].InputChannelsRemoved));
        Assert.AreEqual((0, 2), (removed[2].OutputChannelsRemoved, removed[2].InputChannelsRemoved));
        // MACC by hand: conv 27 x 256 positions per filter; connected inputs x outputs.
        Assert.AreEqual((27L * 256 * 4) + (1024 * 6) + (6 * 3), result.Before.Totals.Macc);
        Assert.AreEqual((27L * 256 * 3) + (768 * 4) + (4 * 3), result.After.Totals.Macc);
        StringAssert.Contains(File.ReadAllText(result.OptimizedDefinitionPath), "output=4");

        AssertLibdarknetAgrees(cfg, weightsPath, result, temp, Shape.Nchw(1, 3, 1, 1), layer: 2, seed: 9);
    }

    /// <summary>
    /// conv 3→4 3x3 (dead 2) → depthwise conv (groups=4) 3x3 with BatchNorm → conv 1x1 4→2. The
    /// depthwise channel 2 reads zeros, so it is its folded bias, leaky of it a nonzero constant that
    /// the 1x1 conv takes into its bias; the depthwise conv goes from 4 groups to 3.
    /// </summary>
    [TestMethod]
    public void Darknet_depthwise_channel_goes_with_its_input_and_groups_is_rewritten_and_libdarknet_agrees()
    {
        using var temp = new TempDirectory();
        var weights = new DarknetWeights(seed: 12);
        weights.Conv(3, 4, 3, dead: [2]);
        weights.Conv(1, 4, 3);
        weights.Conv(4, 2, 1, batchNormalize: false);
        var (cfg, weightsPath) = weights.Write(temp, "depthwise", Net +
            "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
            "[convolutional]\nbatch_normalize=1\nfilters=4\ngroups=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
            "[convolutional]\nfilters=2\nsize=1\nstride=1\npad=1\nactivation=linear\n");

        var result = Prune(cfg, weightsPath, temp.Combine("out"));

        var removed = result.Passes.Pruning.ToDictionary(p => p.Origin.Index);
        Assert.AreEqual(1, removed[0].OutputChannelsRemoved);
        Assert.AreEqual(1, removed[1].OutputChannelsRemoved);
        Assert.AreEqual(1, removed[2].InputChannelsRemoved);
        // MACC by hand at 16x16: 27 per filter; the depthwise conv 9 per channel; the 1x1 conv inputs x 2.
        Assert.AreEqual(256L * ((27 * 4) + (9 * 4) + (4 * 2)), result.Before.Totals.Macc);
        Assert.AreEqual(256L * ((27 * 3) + (9 * 3) + (3 * 2)), result.After.Totals.Macc);
        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        StringAssert.Contains(text, "filters=3\ngroups=3");
        AssertLibdarknetAgrees(cfg, weightsPath, result, temp, Shape.Nchw(1, 2, 16, 16), layer: 2, seed: 13);
    }

    [TestMethod]
    public void Without_the_option_nothing_is_pruned()
    {
        using var temp = new TempDirectory();
        var (cfg, weightsPath) = TwoConvs(temp, "off", seed: 5, deadBeta: 0, consumerSize: 1);

        var result = ModelOptimizer.Optimize(new OptimizeRequest { DefinitionPath = cfg, WeightsPath = weightsPath, OutputDirectory = temp.Combine("out") });

        Assert.IsEmpty(result.Passes.Pruning);
        Assert.AreEqual(result.Before.Totals.Macc, result.After.Totals.Macc);
    }

    private static OptimizeResult Prune(string cfg, string weights, string output) => ModelOptimizer.Optimize(new OptimizeRequest
    {
        DefinitionPath = cfg,
        WeightsPath = weights,
        FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
        PruneDeadChannels = true,
        Verify = VerifyMode.Model,
        OutputDirectory = output,
    });

    /// <summary>conv 3→4 3x3 with BatchNorm (channel 2: gamma 0, beta <paramref name="deadBeta"/>, leaky) → conv 4→2 of size <paramref name="consumerSize"/>.</summary>
    private static (string Cfg, string Weights) TwoConvs(TempDirectory temp, string name, int seed, float deadBeta, int consumerSize)
    {
        var weights = new DarknetWeights(seed);
        weights.Conv(3, 4, 3, dead: [2], deadBeta: deadBeta);
        weights.Conv(4, 2, consumerSize, batchNormalize: false);
        return weights.Write(temp, name, Net +
            "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
            $"[convolutional]\nfilters=2\nsize={consumerSize}\nstride=1\npad=1\nactivation=linear\n");
    }

    /// <summary>libdarknet runs the original and the written pruned files on one seeded input; the outputs of <paramref name="layer"/> agree.</summary>
    private void AssertLibdarknetAgrees(string cfg, string weights, OptimizeResult result, TempDirectory temp, Shape output, int layer, int seed)
    {
        var input = SeededInput(3 * 16 * 16, seed);
        var original = DarknetHarness.Run(cfg, weights, input, temp.Path);
        var pruned = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, input, temp.Path);
        var comparison = VerificationReport.Compare("libdarknet", "output", output, pruned[layer], original[layer], 1e-4, 1e-3);
        TestContext.WriteLine($"libdarknet pruned vs original, layer {layer}: max abs {comparison.MaxAbsoluteError:G3}");
        Assert.IsTrue(comparison.Passed, $"max abs {comparison.MaxAbsoluteError}");
    }

    private static float[] SeededInput(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)random.NextDouble())];
    }
}
