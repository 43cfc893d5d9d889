using System.Globalization;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Execution;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Issue 13's low-rank figures (docs/compression.md): params saved against output error for energies
/// 0.9 / 0.99 / 0.999, and the error the pipeline measures is the one libdarknet computes between the
/// original files and the written ones. On an AlexNet-like classifier tail small enough for the suite:
/// 6x6x16 features → connected 256 (relu) → connected 256 (relu) → connected 100, whose weights have a
/// decaying spectrum planted (singular values ∝ k^-1.5, as trained FC layers decay; seeded random
/// weights have a flat spectrum and nothing to gain, see the doc). With NEURALBUILD_LOWRANK_FIGURES=FILE
/// each energy appends its row of the doc's table to FILE.
/// </summary>
[TestClass]
public sealed class LowRankFiguresTests
{
    private const string Cfg = "[net]\nbatch=1\nwidth=6\nheight=6\nchannels=16\n\n"
        + "[connected]\noutput=256\nactivation=relu\n\n"
        + "[connected]\noutput=256\nactivation=relu\n\n"
        + "[connected]\noutput=100\nactivation=linear\n";

    private static readonly (int Inputs, int Outputs)[] Layers = [(6 * 6 * 16, 256), (256, 256), (256, 100)];

    [TestMethod]
    [DataRow(0.9)]
    [DataRow(0.99)]
    [DataRow(0.999)]
    public void The_measured_output_error_is_what_libdarknet_computes_on_the_written_files(double energy)
    {
        using var temp = new TempDirectory();
        var cfg = temp.WriteText("tail.cfg", Cfg);
        var weights = temp.Combine("tail.weights");
        DarknetFixture.WriteWeights(weights, PlantedSpectrumWeights(new Random(13)));

        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = weights,
            FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
            LowRankFc = new LowRankTarget(energy, null),
            OutputDirectory = temp.Combine("out"),
        });

        // Every factorised layer saves I·J − r(I + J + 1) parameters (the first layer's zero bias is stored), and the files hold that many fewer.
        Assert.IsNotEmpty(result.Passes.LowRank);
        foreach (var layer in result.Passes.LowRank)
        {
            Assert.AreEqual(((long)layer.Inputs * layer.Outputs) - ((long)layer.Rank * (layer.Inputs + layer.Outputs + 1)), layer.ParamsSaved);
            Assert.IsGreaterThanOrEqualTo(energy, layer.EnergyKept);
        }

        Assert.AreEqual(result.Before.Totals.Params - result.Passes.LowRank.Sum(l => l.ParamsSaved), result.After.Totals.Params);

        // libdarknet runs the source files and the written ones on the verifier's seeded input: their difference is the measured one.
        var input = OnnxFoldHarness.RandomInput(ModelFormats.Read(cfg, new ModelReadOptions { DarknetDialect = DarknetDialect.Pjreddie }).Graph.Inputs.Values.Single()).Data;
        var original = DarknetHarness.Run(cfg, weights, input, temp.Path).OrderBy(o => o.Key).Last().Value;
        var written = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, input, temp.Path).OrderBy(o => o.Key).Last().Value;
        var darknetError = original.Zip(written, (b, a) => Math.Abs((double)a - b)).Max();
        var measured = result.LossyCost!.Comparisons.Single(c => c.Subject == "model output").MaxAbsoluteError;
        var magnitude = original.Max(MathF.Abs);
        Assert.IsGreaterThan(1e-4 * magnitude, measured, "the factorisation is lossy");
        Assert.AreEqual(darknetError, measured, (1e-5 * magnitude) + (1e-3 * darknetError), $"energy {energy}: libdarknet {darknetError:G6}, measured {measured:G6}, magnitude {magnitude:G6}");
        if (Environment.GetEnvironmentVariable("NEURALBUILD_LOWRANK_FIGURES") is { Length: > 0 } figures)
        {
            File.AppendAllText(figures, string.Create(CultureInfo.InvariantCulture,
                $"| {energy} | {string.Join(", ", result.Passes.LowRank.Select(l => $"{l.Inputs}→{l.Rank}→{l.Outputs}"))} | {result.Before.Totals.Params:N0} → {result.After.Totals.Params:N0} | {result.Passes.LowRank.Sum(l => l.ParamsSaved):N0} ({(double)result.Passes.LowRank.Sum(l => l.ParamsSaved) / result.Before.Totals.Params:P1}) | {measured / magnitude:P3} | {darknetError / magnitude:P3} |\n"));
        }
    }

    [TestMethod]
    public void On_the_users_inputs_the_measured_error_is_the_worst_libdarknet_sees_over_them()
    {
        using var temp = new TempDirectory();
        var cfg = temp.WriteText("tail.cfg", Cfg);
        var weights = temp.Combine("tail.weights");
        DarknetFixture.WriteWeights(weights, PlantedSpectrumWeights(new Random(13)));
        var random = new Random(99);
        var inputs = Enumerable.Range(0, 2).Select(i => Enumerable.Range(0, 6 * 6 * 16).Select(_ => (float)((random.NextDouble() * (i + 1) * 4) - 1)).ToArray()).ToList();
        Directory.CreateDirectory(temp.Combine("inputs"));
        for (var i = 0; i < inputs.Count; i++)
        {
            File.WriteAllBytes(Path.Combine(temp.Path, "inputs", $"{i}.npy"), Evaluation.NpyFileTests.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 16, 6, 6), }", [.. inputs[i].SelectMany(BitConverter.GetBytes)]));
        }

        var result = ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = cfg,
            WeightsPath = weights,
            FormatOptions = new Dictionary<string, string> { ["dialect"] = "pjreddie" },
            LowRankFc = new LowRankTarget(0.9, null),
            EvaluationInputs = Engine.Evaluation.EvaluationInputs.FromPath(temp.Combine("inputs"), Engine.Evaluation.InputPreprocessing.Default),
            OutputDirectory = temp.Combine("out"),
        });

        var darknetErrors = inputs.Select(input =>
        {
            var original = DarknetHarness.Run(cfg, weights, input, temp.Path).OrderBy(o => o.Key).Last().Value;
            var written = DarknetHarness.Run(result.OptimizedDefinitionPath, result.OptimizedWeightsPath, input, temp.Path).OrderBy(o => o.Key).Last().Value;
            return original.Zip(written, (b, a) => Math.Abs((double)a - b)).Max();
        }).ToList();
        var measured = result.LossyCost!.Comparisons.Single(c => c.Subject == "model output").MaxAbsoluteError;
        Assert.AreNotEqual(darknetErrors[0], darknetErrors[1], 1e-3 * darknetErrors.Max(), "two inputs of different error");
        Assert.AreEqual(darknetErrors.Max(), measured, 1e-3 * darknetErrors.Max());
        StringAssert.Contains(result.LossyCostInputs, "2 input file(s)");
    }

    /// <summary>
    /// Darknet's order (per layer: biases, then weights outputs × inputs); each weight matrix is
    /// U · diag(s) · V with Gaussian U (J×m) and V (m×I) scaled by 1/√J and 1/√I (close to orthonormal),
    /// m = min(I, J), s_k = 2 · k^-1.5.
    /// </summary>
    private static float[] PlantedSpectrumWeights(Random random)
    {
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var floats = new List<float>();
        foreach (var (inputs, outputs) in Layers)
        {
            var m = Math.Min(inputs, outputs);
            floats.AddRange(Enumerable.Range(0, outputs).Select(_ => (float)((random.NextDouble() - 0.5) * 0.2)));
            var u = new double[outputs, m];
            var v = new double[m, inputs];
            for (var j = 0; j < outputs; j++)
            {
                for (var k = 0; k < m; k++)
                {
                    u[j, k] = Gaussian() / Math.Sqrt(outputs) * 2 * Math.Pow(k + 1, -1.5);
                }
            }

            for (var k = 0; k < m; k++)
            {
                for (var i = 0; i < inputs; i++)
                {
                    v[k, i] = Gaussian() / Math.Sqrt(inputs);
                }
            }

            for (var j = 0; j < outputs; j++)
            {
                for (var i = 0; i < inputs; i++)
                {
                    double sum = 0;
                    for (var k = 0; k < m; k++)
                    {
                        sum += u[j, k] * v[k, i];
                    }

                    floats.Add((float)sum);
                }
            }
        }

        return [.. floats];
    }
}
