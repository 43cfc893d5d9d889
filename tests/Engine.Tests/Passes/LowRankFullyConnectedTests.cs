using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Execution;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>Low-rank factorisation of fully connected layers: the decomposition by hand, and Darknet models run by libdarknet.</summary>
[TestClass]
public sealed class LowRankFullyConnectedTests
{
    [TestMethod]
    public void The_eigen_decomposition_of_a_2x2_matrix_is_the_one_worked_by_hand()
    {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/sqrt 2 and (1, -1)/sqrt 2.
        var (values, vectors) = LowRankFactors.SymmetricEigen(new double[,] { { 2, 1 }, { 1, 2 } });
        Assert.AreEqual(3, values[0], 1e-12);
        Assert.AreEqual(1, values[1], 1e-12);
        Assert.AreEqual(1, Math.Abs(vectors[0, 0] + vectors[1, 0]) / Math.Sqrt(2), 1e-12);
        Assert.AreEqual(0, vectors[0, 0] - vectors[1, 0], 1e-12);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(7)]
    [DataRow(120)]
    public void The_eigen_decomposition_finds_the_eigenvalues_a_matrix_was_built_from(int n)
    {
        // A = Q diag(λ) Qᵀ with Q a product of three Householder reflections of seeded directions
        // and λ chosen (repeated and zero values included): the λ come back, and each column v of
        // the vectors satisfies A v = λ v with |v| = 1.
        var random = new Random(n);
        var lambda = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? 0.0 : i % 7 == 0 ? 2.5 : random.NextDouble() * 10).ToArray();
        var q = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            q[i, i] = 1;
        }

        for (var reflection = 0; reflection < 3; reflection++)
        {
            var v = Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray();
            var norm = Math.Sqrt(v.Sum(x => x * x));
            for (var row = 0; row < n; row++)
            {
                double dot = 0;
                for (var k = 0; k < n; k++)
                {
                    dot += q[row, k] * v[k];
                }

                for (var k = 0; k < n; k++)
                {
                    q[row, k] -= 2 * dot * v[k] / (norm * norm);
                }
            }
        }

        var a = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var k = 0; k < n; k++)
                {
                    sum += q[i, k] * lambda[k] * q[j, k];
                }

                a[i, j] = sum;
            }
        }

        var (values, vectors) = LowRankFactors.SymmetricEigen(a);
        var expected = lambda.OrderByDescending(x => x).ToArray();
        for (var k = 0; k < n; k++)
        {
            Assert.AreEqual(expected[k], values[k], 1e-9, $"eigenvalue {k}");
            double length = 0;
            for (var i = 0; i < n; i++)
            {
                double av = 0;
                for (var j = 0; j < n; j++)
                {
                    av += a[i, j] * vectors[j, k];
                }

                Assert.AreEqual(values[k] * vectors[i, k], av, 1e-9, $"(A v)[{i}] of vector {k}");
                length += vectors[i, k] * vectors[i, k];
            }

            Assert.AreEqual(1, length, 1e-9, $"|v{k}|");
        }
    }

    [TestMethod]
    [DataRow(3, 5)]
    [DataRow(5, 3)]
    public void A_rank_one_matrix_keeps_all_its_energy_at_rank_one_and_its_factors_multiply_back(int outputs, int inputs)
    {
        // W = u vᵀ with u = (1, 2, …), v = (1, -1, 2, -2, …): one singular value, |u| |v|.
        var u = Enumerable.Range(1, outputs).Select(i => (double)i).ToArray();
        var v = Enumerable.Range(0, inputs).Select(i => (i % 2 == 0 ? 1.0 : -1.0) * ((i / 2) + 1)).ToArray();
        var w = new float[outputs * inputs];
        for (var j = 0; j < outputs; j++)
        {
            for (var i = 0; i < inputs; i++)
            {
                w[(j * inputs) + i] = (float)(u[j] * v[i]);
            }
        }

        var factors = LowRankFactors.Of(w, outputs, inputs);
        Assert.AreEqual(1, factors.RankFor(0.999999));
        Assert.AreEqual(u.Sum(x => x * x) * v.Sum(x => x * x), factors.Eigenvalues[0], 1e-6);
        var (a, b) = factors.Factors(1);
        for (var j = 0; j < outputs; j++)
        {
            for (var i = 0; i < inputs; i++)
            {
                Assert.AreEqual(w[(j * inputs) + i], b[j] * a[i], 1e-4, $"W[{j},{i}]");
            }
        }
    }

    [TestMethod]
    [DataRow("0.99", 0.99, null)]
    [DataRow("rank:16", null, 16)]
    public void Targets_parse(string text, double? energy, int? rank) =>
        Assert.AreEqual(new LowRankTarget(energy, rank), LowRankTarget.Parse(text, SourceLocation.None));

    [TestMethod]
    [DataRow("99%")]
    [DataRow("0")]
    [DataRow("1.5")]
    [DataRow("rank:0")]
    public void Bad_targets_are_NM0320(string text) =>
        Assert.AreEqual("NM0320", Assert.ThrowsExactly<NeuralException>(() => LowRankTarget.Parse(text, SourceLocation.None)).Code);

    private const string Cfg = "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n\n" +
        "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n" +
        "[connected]\noutput=64\nactivation=leaky\n\n" +
        "[connected]\noutput=10\nactivation=linear\n";

    /// <summary>
    /// conv 3→4 → connected 1024 → 64 whose weights have rank 4 (B (64×4) · A (4×1024)) → connected 64 → 10.
    /// At 0.999 the first connected layer becomes 1024 → 4 → 64 (4,356 parameters instead of 65,536)
    /// and loses nothing; the second, 64 → 10 of full rank, would grow and is kept with the reason.
    /// </summary>
    [TestMethod]
    public void Darknet_connected_layer_of_rank_4_becomes_two_sections_and_libdarknet_computes_the_same()
    {
        using var temp = new TempDirectory();
        var random = new Random(21);
        float Uniform(double scale) => (float)((random.NextDouble() - 0.5) * scale);
        var floats = new List<float>();
        floats.AddRange(Enumerable.Range(0, 4).Select(_ => Uniform(1)));          // conv bias
        floats.AddRange(Enumerable.Range(0, 4 * 27).Select(_ => Uniform(0.6)));   // conv weights
        var b = Enumerable.Range(0, 64 * 4).Select(_ => Uniform(1)).ToArray();
        var a = Enumerable.Range(0, 4 * 1024).Select(_ => Uniform(0.1)).ToArray();
        floats.AddRange(Enumerable.Range(0, 64).Select(_ => Uniform(1)));         // connected bias
        for (var j = 0; j < 64; j++)
        {
            for (var i = 0; i < 1024; i++)
            {
                floats.Add(Enumerable.Range(0, 4).Sum(k => b[(j * 4) + k] * a[(k * 1024) + i]));
            }
        }

        floats.AddRange(Enumerable.Range(0, 10 + (10 * 64)).Select(_ => Uniform(0.5)));
        var cfg = temp.WriteText("lowrank.cfg", Cfg);
        var weights = temp.Combine("lowrank.weights");
        DarknetFixture.WriteWeights(weights, [.. floats]);

        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = weights,
            FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
            LowRankFc = new LowRankTarget(0.999, null),
            OutputDirectory = temp.Combine("out"),
        });

        var factorised = result.Passes.LowRank.Single();
        Assert.AreEqual((1, 4, 64), (factorised.Origin.Index, factorised.Rank, factorised.FullRank));
        Assert.AreEqual((1024L * 64) - (4 * (1024 + 64 + 1)), factorised.ParamsSaved);
        StringAssert.Contains(result.Passes.NotApplied.Single(e => e.Pass == "LowRankFullyConnected").Detail, "not fewer");
        Assert.AreEqual(result.Before.Totals.Params - factorised.ParamsSaved, result.After.Totals.Params);
        StringAssert.Contains(File.ReadAllText(result.OptimizedDefinitionPath), "[connected]\noutput=4\nactivation=linear\n\n[connected]\noutput=64");
        Assert.IsLessThan(1e-3, result.LossyCost!.Comparisons.Single(c => c.Subject == "model output").MaxRelativeError);

        var input = Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)random.NextDouble()).ToArray();
        var original = DarknetHarness.Run(cfg, weights, input, temp.Path);
        var written = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, input, temp.Path);
        var comparison = VerificationReport.Compare("libdarknet", "output", Shape.Nchw(1, 10, 1, 1), written[3], original[2], 1e-4, 1e-3);
        Assert.IsTrue(comparison.Passed, $"max abs {comparison.MaxAbsoluteError}");
    }

    [TestMethod]
    public void A_lower_rank_than_the_weights_have_is_lossy_and_the_written_model_computes_what_was_measured()
    {
        using var temp = new TempDirectory();
        var random = new Random(22);
        var floats = Enumerable.Range(0, 4 + (4 * 27) + 64 + (64 * 1024) + 10 + (10 * 64)).Select(_ => (float)((random.NextDouble() - 0.5) * 0.2)).ToArray();
        var cfg = temp.WriteText("lossy.cfg", Cfg);
        var weights = temp.Combine("lossy.weights");
        DarknetFixture.WriteWeights(weights, floats);

        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = weights,
            FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
            LowRankFc = new LowRankTarget(null, 8),
            OutputDirectory = temp.Combine("out"),
        });

        var factorised = result.Passes.LowRank.Single(l => l.Origin.Index == 1);
        Assert.AreEqual(8, factorised.Rank);
        Assert.IsGreaterThan(0.1, factorised.WeightsRelativeError, "random weights spread their energy over all 64 singular values");
        var measured = result.LossyCost!.Comparisons.Single(c => c.Subject == "model output");
        Assert.IsGreaterThan(0, measured.MaxAbsoluteError);

        // The error measured is the error of the files written: libdarknet on them agrees with the reference executor.
        var input = Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)random.NextDouble()).ToArray();
        var written = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, input, temp.Path);
        var reread = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath, DarknetDialect = DarknetDialect.Pjreddie });
        var ours = OnnxFoldHarness.Run(reread, new Tensor(Shape.Nchw(1, 3, 16, 16), input)).Single();
        var comparison = VerificationReport.Compare("reference vs libdarknet", "output", ours.Shape, ours.Data, written.OrderBy(o => o.Key).Last().Value, 1e-4, 1e-3);
        Assert.IsTrue(comparison.Passed, $"max abs {comparison.MaxAbsoluteError}");
    }

    /// <summary>
    /// <see cref="Formats.Caffe.CaffeFixture.Tiny"/>'s InnerProduct 64 → 5 at rank 2 (2 x (64 + 5 + 1) = 140
    /// parameters instead of 320): the prototxt gains an InnerProduct layer before it, the caffemodel
    /// its blobs, and the written files compute exactly the difference the pipeline measured.
    /// </summary>
    [TestMethod]
    public void Caffe_inner_product_becomes_two_and_the_written_files_show_the_measured_error()
    {
        using var temp = new TempDirectory();
        var prototxt = temp.WriteText("tiny.prototxt", Formats.Caffe.CaffeFixture.Tiny);
        var caffemodel = temp.Write("tiny.caffemodel", Google.Protobuf.MessageExtensions.ToByteArray(Formats.Caffe.CaffeFixture.TinyWeights()));

        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = prototxt,
            WeightsPath = caffemodel,
            LowRankFc = new LowRankTarget(null, 2),
            OutputDirectory = temp.Combine("out"),
        });

        var factorised = result.Passes.LowRank.Single();
        Assert.AreEqual((64, 2, 5, 320L - 140), (factorised.Inputs, factorised.Rank, factorised.Outputs, factorised.ParamsSaved));
        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        StringAssert.Contains(text, "layer { name: \"fc/low_rank\" type: \"InnerProduct\" bottom: \"pool1\" top: \"fc/low_rank\" inner_product_param { num_output: 2 } }\nlayer { name: \"fc\" type: \"InnerProduct\" bottom: \"fc/low_rank\"");
        var written = NeuralBuild.Engine.Formats.Caffe.Proto.NetParameter.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedWeightsPath));
        CollectionAssert.AreEqual(new long[] { 2, 64 }, written.Layer.Single(l => l.Name == "fc/low_rank").Blobs[0].Shape.Dim.ToArray());
        CollectionAssert.AreEqual(new long[] { 5, 2 }, written.Layer.Single(l => l.Name == "fc").Blobs[0].Shape.Dim.ToArray());

        // The verifier's seeded input (SplitMix64 0x5EED in [-1, 1)), run on the source files and on the written ones.
        var original = ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = caffemodel });
        var rewritten = ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath });
        var input = OnnxFoldHarness.RandomInput(original.Graph.Inputs.Values.Single());
        var expected = OnnxFoldHarness.Run(original, input).Single();
        var actual = OnnxFoldHarness.Run(rewritten, input).Single();
        var difference = expected.Data.Zip(actual.Data, (e, a) => Math.Abs((double)e - a)).Max();
        var measured = result.LossyCost!.Comparisons.Single(c => c.Subject == "model output").MaxAbsoluteError;
        Assert.IsGreaterThan(0, measured);
        Assert.AreEqual(measured, difference, 1e-6);
    }
}
