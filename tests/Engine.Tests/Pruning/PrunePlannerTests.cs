using NeuralBuild.Engine.Evaluation;
using Google.Protobuf;
using System.Runtime.InteropServices;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Pruning;
using NeuralBuild.Engine.Tests.Execution;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Passes;
using NeuralBuild.Engine.Tests.Support;

using ProtoModel = NeuralBuild.Engine.Formats.Onnx.Proto.ModelProto;

namespace NeuralBuild.Engine.Tests.Pruning;

/// <summary>
/// Lossy channel pruning planned on small Darknet models whose weights the tests write themselves:
/// the channels chosen are recomputed from those weights, the savings counted by hand, and the
/// pruned model checked against the honest oracle, libdarknet on the original files with the
/// removed channels forced to 0 at the layer's output (BatchNorm gamma and beta 0, so
/// leaky(0) = 0 whatever the conv computes).
/// </summary>
[TestClass]
public sealed class PrunePlannerTests
{
    private const string Net = "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n\n";

    /// <summary>
    /// 0 conv 3→8 3x3 BN leaky; 1 maxpool 2/2; 2 conv 8→8 3x3 BN leaky; 3 upsample 2; 4 route -1,-4
    /// (layer 2's 8 channels, then layer 0's 8); 5 conv 16→4 1x1 linear, the output. Layer 0's
    /// channels reach layer 2 (through the max pool) and layer 5 (through the route, at offset 8).
    /// </summary>
    private const string Cfg = Net +
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[maxpool]\nsize=2\nstride=2\n\n" +
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[upsample]\nstride=2\n\n" +
        "[route]\nlayers=-1,-4\n\n" +
        "[convolutional]\nfilters=4\nsize=1\nstride=1\npad=1\nactivation=linear\n";

    // Float positions in the weights file: layer 0's beta [0, 8), gamma [8, 16), mean, variance, then 8 filters of 27.
    private const int Layer0Gamma = 8;
    private const int Layer0Filters = 32;

    public TestContext TestContext { get; set; } = null!;

    private static DarknetWeights Weights(int[]? dead = null)
    {
        var weights = new DarknetWeights(seed: 21);
        weights.Conv(3, 8, 3, dead: dead);
        weights.Conv(8, 8, 3);
        weights.Conv(16, 4, 1, batchNormalize: false);
        return weights;
    }

    private static PrunePlanRequest Request(string cfg, string weights, PruneCriterion criterion, string? output = null, int samples = 1) => new()
    {
        DefinitionPath = cfg,
        WeightsPath = weights,
        FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
        Criterion = criterion,
        Remove = 2,
        Layers = ["0"],
        Samples = samples,
        Seed = 77,
        OutputDirectory = output,
    };

    [TestMethod]
    public void L1_plan_removes_the_smallest_filters_saves_the_hand_counted_figures_and_libdarknet_agrees_with_the_zeroed_original()
    {
        using var temp = new TempDirectory();
        var weights = Weights();
        var (cfg, weightsPath) = weights.Write(temp, "plan", Cfg);

        using var set = OutputSet.Begin(temp.Combine("out"));
        var plan = PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.L1, temp.Combine("out")), set);
        set.Commit();
        TestContext.WriteLine(PrunePlanFormatter.Format(plan, "table"));

        // The two filters of smallest L1 norm, from the floats the test wrote.
        var l1 = Enumerable.Range(0, 8).Select(c => Enumerable.Range(0, 27).Sum(j => Math.Abs((double)weights.Floats[Layer0Filters + (c * 27) + j]))).ToArray();
        var expected = Enumerable.Range(0, 8).OrderBy(c => l1[c]).Take(2).Select(c => (long)c).Order().ToArray();
        var layer = plan.Layers.Single();
        CollectionAssert.AreEqual(expected, layer.Removed.ToArray());
        Assert.AreEqual(l1[expected[0]], layer.Scores[(int)expected[0]], 1e-4);
        Assert.IsNull(layer.Refused);

        // By hand: layer 0 loses 2 filters of 27 and their 4 BatchNorm entries each at 16x16; layer 2
        // 2 input slices of 3x3 for its 8 filters at 8x8; layer 5 2 input columns for its 4 filters at 16x16.
        Assert.AreEqual((2 * 27) + (2 * 4) + (2 * 9 * 8) + (2 * 4), layer.Alone!.ParamsSaved);
        Assert.AreEqual((27L * 2 * 256) + (9L * 2 * 8 * 64) + (2L * 4 * 256), layer.Alone.MaccSaved);
        Assert.AreEqual(layer.Alone.MaccSaved, plan.Together!.MaccSaved, "one layer planned: together is that layer");
        StringAssert.Contains(File.ReadAllText(plan.Written[0]), "filters=6");

        // The oracle: the original files with the removed channels' gamma and beta 0, run by libdarknet.
        var zeroed = expected.SelectMany(c => new[] { ((int)c, 0f), (Layer0Gamma + (int)c, 0f) }).ToDictionary(p => p.Item1, p => p.Item2);
        var (_, zeroedWeights) = weights.Write(temp, "zeroed", Cfg, zeroed);
        var input = Verifier.RandomTensor(Shape.Nchw(1, 3, 16, 16), 77);
        var original = DarknetHarness.Run(cfg, weightsPath, input.Data.ToArray(), temp.Path)[5];
        var forced = DarknetHarness.Run(cfg, zeroedWeights, input.Data.ToArray(), temp.Path)[5];
        var pruned = DarknetHarness.Run(plan.Written[0], plan.Written[1], input.Data.ToArray(), temp.Path)[5];
        var comparison = VerificationReport.Compare("libdarknet", "output", Shape.Nchw(1, 4, 16, 16), pruned, forced, 1e-4, 1e-3);
        Assert.IsTrue(comparison.Passed, $"pruned vs zeroed original: max abs {comparison.MaxAbsoluteError}");

        // The error the plan measured (reference executor, same seeded input) is libdarknet's too.
        var libdarknetError = OutputAccuracy.Measure("libdarknet", "output", Shape.Nchw(1, 4, 16, 16), forced, original);
        var planned = layer.Alone.Outputs.Single();
        TestContext.WriteLine($"plan max {planned.MaxRelativeError:G6} mean {planned.MeanRelativeError:G6}; libdarknet max {libdarknetError.MaxRelativeError:G6} mean {libdarknetError.MeanRelativeError:G6}");
        Assert.IsGreaterThan(0.0, planned.MaxRelativeError, "removing live channels changes the output");
        Assert.AreEqual(libdarknetError.MaxRelativeError, planned.MaxRelativeError, 1e-4);
        Assert.AreEqual(libdarknetError.MeanRelativeError, planned.MeanRelativeError, 1e-5);
    }

    [TestMethod]
    public void A_plan_measured_on_the_users_npy_input_reports_the_error_libdarknet_sees_on_that_input()
    {
        using var temp = new TempDirectory();
        var weights = Weights();
        var (cfg, weightsPath) = weights.Write(temp, "plan", Cfg);
        // The user's input: not one the planner would draw (another seed, another range).
        var data = Verifier.RandomTensor(Shape.Nchw(1, 3, 16, 16), 4242).Data.Select(v => (v * 3) + 0.5f).ToArray();
        Directory.CreateDirectory(temp.Combine("inputs"));
        File.WriteAllBytes(Path.Combine(temp.Path, "inputs", "one.npy"), Evaluation.NpyFileTests.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 16, 16), }", [.. data.SelectMany(BitConverter.GetBytes)]));

        var plan = PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.L1) with
        {
            Inputs = EvaluationInputs.FromPath(temp.Combine("inputs"), InputPreprocessing.Default),
        });
        Assert.AreEqual(1, plan.Samples);
        Assert.IsNull(plan.Seed);
        StringAssert.Contains(PrunePlanFormatter.Format(plan, "table"), "1 input file(s) in " + temp.Combine("inputs"));

        // The oracle: libdarknet on that input, the original against the removed channels zeroed.
        var removed = plan.Layers.Single().Removed;
        var zeroed = removed.SelectMany(c => new[] { ((int)c, 0f), (Layer0Gamma + (int)c, 0f) }).ToDictionary(p => p.Item1, p => p.Item2);
        var (_, zeroedWeights) = weights.Write(temp, "zeroed", Cfg, zeroed);
        var original = DarknetHarness.Run(cfg, weightsPath, data, temp.Path)[5];
        var forced = DarknetHarness.Run(cfg, zeroedWeights, data, temp.Path)[5];
        var libdarknetError = OutputAccuracy.Measure("libdarknet", "output", Shape.Nchw(1, 4, 16, 16), forced, original);
        var planned = plan.Layers.Single().Alone!.Outputs.Single();
        Assert.AreEqual(libdarknetError.MaxRelativeError, planned.MaxRelativeError, 1e-4);
        Assert.AreEqual(libdarknetError.MeanRelativeError, planned.MeanRelativeError, 1e-5);
        var seeded = PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.L1)).Layers.Single().Alone!.Outputs.Single();
        Assert.AreNotEqual(seeded.MeanRelativeError, planned.MeanRelativeError, 1e-6, "measured on the user's input, not the seeded one");
    }

    [TestMethod]
    public void Entropy_ranks_a_constant_channel_first_with_zero_bits()
    {
        using var temp = new TempDirectory();
        var (cfg, weightsPath) = Weights(dead: [5]).Write(temp, "entropy", Cfg);

        var plan = PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.Entropy, samples: 2) with { Remove = 1 });

        var layer = plan.Layers.Single();
        CollectionAssert.AreEqual(new long[] { 5 }, layer.Removed.ToArray());
        Assert.AreEqual(0, layer.Scores[5]);
        Assert.IsTrue(layer.Scores.Where((_, c) => c != 5).All(s => s > 1), string.Join(", ", layer.Scores));
        // Channel 5 is 0 everywhere (gamma and beta 0, leaky(0) = 0): removing it changes nothing.
        Assert.AreEqual(0, layer.Alone!.Outputs.Single().MaxRelativeError, 1e-6);
    }

    [TestMethod]
    public void Bn_gamma_removes_the_smallest_gamma_and_refuses_a_named_conv_without_batchnorm()
    {
        using var temp = new TempDirectory();
        var weights = Weights();
        var (cfg, weightsPath) = weights.Write(temp, "gamma", Cfg);

        var plan = PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.BnGamma));

        var gammas = Enumerable.Range(0, 8).Select(c => Math.Abs(weights.Floats[Layer0Gamma + c])).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, 8).OrderBy(c => gammas[c]).Take(2).Select(c => (long)c).Order().ToArray(), plan.Layers.Single().Removed.ToArray());
        var error = Assert.ThrowsExactly<NeuralException>(() => PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.BnGamma) with { Layers = ["5"] }));
        Assert.AreEqual("NM0381", error.Code);
        Assert.AreEqual("NM0382", Assert.ThrowsExactly<NeuralException>(() => PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.L1) with { Layers = ["1"] })).Code, "layer 1 is a max pool");
    }

    /// <summary>
    /// 0 conv 3→8; 1 conv 8→8; 2 shortcut -2 (0 + 1); 3 conv 8→18 1x1 → 4 [yolo]. Layers 0 and 1 meet
    /// at the add, which would need the same channel gone from both; layer 3 feeds the yolo head.
    /// </summary>
    [TestMethod]
    public void Layers_whose_channels_cannot_go_alone_are_listed_with_the_reason()
    {
        using var temp = new TempDirectory();
        var weights = new DarknetWeights(seed: 5);
        weights.Conv(3, 8, 3);
        weights.Conv(8, 8, 3);
        weights.Conv(8, 18, 1, batchNormalize: false);
        var (cfg, weightsPath) = weights.Write(temp, "refused", Net +
            "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
            "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
            "[shortcut]\nfrom=-2\nactivation=linear\n\n" +
            "[convolutional]\nfilters=18\nsize=1\nstride=1\npad=1\nactivation=linear\n\n" +
            "[yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=1\nnum=3\n");

        var plan = PrunePlanner.Plan(Request(cfg, weightsPath, PruneCriterion.L1) with { Layers = null, Remove = 1 });

        var refused = plan.Layers.ToDictionary(l => l.Origin.Index, l => l.Refused);
        TestContext.WriteLine(PrunePlanFormatter.Format(plan, "table"));
        StringAssert.Contains(refused[0], "another layer's");
        StringAssert.Contains(refused[1], "another layer's");
        StringAssert.Contains(refused[3], "DarknetYolo");
        Assert.IsNull(plan.Together);
    }

    /// <summary>
    /// x (1x3x8x8) → Conv A 3→4 3x3 pad 1 → BatchNormalization → Relu → Conv Y 4→5 1x1 → y, planned by
    /// |gamma|: the written ONNX file, run by ONNX Runtime, equals ONNX Runtime on the original with
    /// the removed channel's BatchNorm scale and bias 0 (Relu(0) = 0). Y has no BatchNorm: listed, not ranked.
    /// </summary>
    [TestMethod]
    public void Onnx_bn_gamma_plan_is_written_with_its_batchnorm_entries_and_onnx_runtime_agrees_with_the_zeroed_original()
    {
        using var temp = new TempDirectory();
        var scale = TinyOnnx.Random("bn.scale", 1, -1.5, 1.5, 4);
        ProtoModel Build(int? zeroed)
        {
            var bias = TinyOnnx.Random("bn.bias", 2, -0.5, 0.5, 4);
            var gamma = scale.Clone();
            if (zeroed is { } c)
            {
                PruneDeadChannelsFormatTests.ZeroChannel(gamma, c);
                PruneDeadChannelsFormatTests.ZeroChannel(bias, c);
            }

            var model = TinyOnnx.Model(13,
            [
                TinyOnnx.Node("Conv", "convA", ["x", "wA", "bA"], ["cA"], TinyOnnx.Ints("kernel_shape", 3, 3), TinyOnnx.Ints("pads", 1, 1, 1, 1)),
                TinyOnnx.Node("BatchNormalization", "bn", ["cA", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bnA"]),
                TinyOnnx.Node("Relu", "reluA", ["bnA"], ["a"]),
                TinyOnnx.Node("Conv", "convY", ["a", "wY", "bY"], ["y"], TinyOnnx.Ints("kernel_shape", 1, 1)),
            ],
            [
                TinyOnnx.Random("wA", 3, -0.5, 0.5, 4, 3, 3, 3), TinyOnnx.Random("bA", 4, -0.5, 0.5, 4),
                gamma, bias, TinyOnnx.Random("bn.mean", 5, -0.2, 0.2, 4), TinyOnnx.Random("bn.var", 6, 0.5, 1.5, 4),
                TinyOnnx.Random("wY", 9, -0.5, 0.5, 5, 4, 1, 1), TinyOnnx.Random("bY", 10, -0.5, 0.5, 5),
            ]);
            return OnnxFoldHarness.Typed(model, "net.onnx");
        }

        var path = temp.Write("net.onnx", Build(null).ToByteArray());
        using var set = OutputSet.Begin(temp.Combine("out"));
        var plan = PrunePlanner.Plan(new PrunePlanRequest { DefinitionPath = path, Criterion = PruneCriterion.BnGamma, Remove = 1, Samples = 1, OutputDirectory = temp.Combine("out") }, set);
        set.Commit();

        var gammas = MemoryMarshal.Cast<byte, float>(scale.RawData.Span).ToArray();
        var smallest = Enumerable.Range(0, 4).OrderBy(c => Math.Abs(gammas[c])).First();
        var layers = plan.Layers.ToDictionary(l => l.Node);
        CollectionAssert.AreEqual(new long[] { smallest }, layers["convA"].Removed.ToArray());
        StringAssert.Contains(layers["convY"].Refused, "no BatchNorm");
        var written = ProtoModel.Parser.ParseFrom(File.ReadAllBytes(plan.Written.Single()));
        long[] Dims(string node, int input) => [.. written.Graph.Initializer.Single(i => i.Name == written.Graph.Node.Single(n => n.Name == node).Input[input]).Dims];
        CollectionAssert.AreEqual(new long[] { 3, 3, 3, 3 }, Dims("convA", 1));
        CollectionAssert.AreEqual(new long[] { 3 }, Dims("bn", 1));
        CollectionAssert.AreEqual(new long[] { 5, 3, 1, 1 }, Dims("convY", 1));

        var zeroedPath = temp.Write("zeroed.onnx", Build(smallest).ToByteArray());
        var input = OnnxFoldHarness.RandomInput(Shape.Nchw(1, 3, 8, 8), 3);
        var expected = PruneDeadChannelsFormatTests.RunOnnxRuntime(zeroedPath, input);
        var actual = PruneDeadChannelsFormatTests.RunOnnxRuntime(plan.Written.Single(), input);
        var comparison = VerificationReport.Compare("ONNX Runtime", "y", Shape.Nchw(1, 5, 8, 8), actual, expected, 1e-5, 1e-4);
        Assert.IsTrue(comparison.Passed, $"max abs {comparison.MaxAbsoluteError}");
    }

    /// <summary>
    /// The Caffe fixture conv1 → BatchNorm → Scale → ReLU → max pool → InnerProduct: Caffe's BatchNorm has
    /// no gamma of its own, the Scale after it holds it; the Caffe writer states no BatchNorm layer with
    /// fewer channels, so the layer is listed with the writer's reason.
    /// </summary>
    [TestMethod]
    public void Caffe_gamma_comes_from_the_scale_after_batchnorm_and_the_writer_limit_is_listed()
    {
        using var temp = new TempDirectory();
        var net = Formats.Caffe.CaffeFixture.TinyWeights();
        var prototxt = temp.WriteText("tiny.prototxt", Formats.Caffe.CaffeFixture.Tiny);
        var caffemodel = temp.Write("tiny.caffemodel", net.ToByteArray());

        var plan = PrunePlanner.Plan(new PrunePlanRequest { DefinitionPath = prototxt, WeightsPath = caffemodel, Criterion = PruneCriterion.BnGamma, Remove = 1, Samples = 1 });

        var gamma = net.Layer.Single(l => l.Name == "scale1").Blobs[0].Data.Select(g => (double)Math.Abs(g)).ToArray();
        var layer = plan.Layers.Single();
        CollectionAssert.AreEqual(gamma, layer.Scores.ToArray());
        StringAssert.Contains(layer.Refused, "the Caffe writer cannot express");
    }

    [TestMethod]
    public void Entropy_of_hand_made_histograms()
    {
        // One item, 3 channels of 64 values: constant; two values half and half; 32 evenly spread values twice each.
        var shape = new Shape(1, 3, 1, 64);
        var values = new float[3 * 64];
        for (var i = 0; i < 64; i++)
        {
            values[i] = 0.25f;
            values[64 + i] = i < 32 ? -1 : 1;
            values[128 + i] = i % 32;
        }

        var ranges = Enumerable.Repeat((float.PositiveInfinity, float.NegativeInfinity), 3).ToArray();
        var histograms = Enumerable.Range(0, 3).Select(_ => new long[ChannelImportance.Bins]).ToArray();
        ChannelImportance.AddToRanges(values, shape, ranges);
        ChannelImportance.AddToHistograms(values, shape, ranges, histograms);
        var entropy = ChannelImportance.Entropy(histograms);

        Assert.AreEqual(0, entropy[0], 1e-12);
        Assert.AreEqual(1, entropy[1], 1e-12);
        Assert.AreEqual(5, entropy[2], 1e-12, "32 equally filled bins: log2 32");
        CollectionAssert.AreEqual(new long[] { 0, 1 }, ChannelImportance.LeastImportant(entropy, 2));
    }

    [TestMethod]
    public void Out_of_range_options_are_NM0380()
    {
        var request = new PrunePlanRequest { DefinitionPath = "x.cfg" };
        Assert.AreEqual("NM0380", Assert.ThrowsExactly<NeuralException>(() => (request with { Fraction = 1.5 }).Check()).Code);
        Assert.AreEqual("NM0380", Assert.ThrowsExactly<NeuralException>(() => (request with { Remove = 0 }).Check()).Code);
        Assert.AreEqual("NM0380", Assert.ThrowsExactly<NeuralException>(() => (request with { Samples = 0 }).Check()).Code);
        Assert.AreEqual("NM0380", Assert.ThrowsExactly<NeuralException>(() => PrunePlanRequest.ParseCriterion("gamma")).Code);
    }
}
