using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Darknet;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.SyntheticWeights;
using Tensor = NeuralBuild.Engine.Execution.Tensor;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// The independent checks of an exported file: onnx.checker (full check, with ONNX's shape
/// inference) accepts it, and ONNX Runtime, run on a seeded input, computes what the reference
/// executor computes on the same IR, compared as the verifier compares (|a-b| &lt;= atol + rtol *
/// max(|b|, channel rms), atol 1e-5, rtol 1e-4) or, for deep networks whose float32 rounding
/// differences grow layer by layer, within issue 12's floor: the larger of 1e-4 of the output's
/// largest magnitude and 4 times the output's float32 rounding floor, which the verifier measures by
/// running the model again with its weights moved by rounding (<see cref="Verifier.WithRoundedWeights"/>).
/// </summary>
internal static class OnnxRuntimeComparison
{
    private const double AbsoluteTolerance = 1e-5;
    private const double RelativeTolerance = 1e-4;

    /// <summary>Issue 12's floor for whole models: the largest error may reach this fraction of the output's largest magnitude.</summary>
    private const double MagnitudeFloor = 1e-4;

    /// <summary>Exports <paramref name="model"/> into <paramref name="folder"/>, checks it and compares every output; returns the export's result.</summary>
    public static OnnxExportResult ExportAndCompare(Model model, string folder, OnnxExportOptions? options = null, ulong seed = 0x5EED, float low = -1, float high = 1, string name = "model", Oracle? oracle = null, string oracleName = "the reference executor")
    {
        var path = Path.Combine(folder, name + ".onnx");
        var result = OnnxExporter.Export(model, path, options ?? new OnnxExportOptions());
        result.ThrowIfRefused();
        OnnxChecker.Check(path);
        Compare(model, result, seed, low, high, oracle, oracleName);
        return result;
    }

    /// <summary>
    /// Expected outputs from an oracle other than the reference executor: given the input's values
    /// and shape and the IR values the export's outputs stand for, one array per output, in order.
    /// </summary>
    public delegate IReadOnlyList<float[]> Oracle(float[] input, Shape shape, IReadOnlyList<string> outputValues);

    /// <summary>
    /// Runs the exported file in ONNX Runtime and, on the same seeded input, the IR in the reference
    /// executor (or <paramref name="oracle"/>, named <paramref name="oracleName"/>, when given); fails on
    /// any output over tolerance. The rounding floor is always the reference executor's.
    /// </summary>
    public static void Compare(Model model, OnnxExportResult result, ulong seed = 0x5EED, float low = -1, float high = 1, Oracle? oracle = null, string oracleName = "the reference executor")
    {
        var (inputName, shape) = model.Graph.Inputs.First();
        var random = new SplitMix64(seed);
        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.Uniform(low, high);
        }

        var expected = new ReferenceExecutor(model.Graph).Run(
            new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputName] = new Tensor(shape, (float[])data.Clone()) },
            [.. result.Outputs.Select(o => o.IrValue)]);

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(result.OnnxPath!, sessionOptions);
        var input = NamedOnnxValue.CreateFromTensor(result.Inputs[0].OnnxName, new DenseTensor<float>(data, [.. shape.Dims.Select(d => (int)d)]));
        using var outputs = session.Run([input]);
        var oracleOutputs = oracle?.Invoke((float[])data.Clone(), shape, [.. result.Outputs.Select(o => o.IrValue)]);
        var failures = new List<string>();
        IReadOnlyDictionary<string, Tensor>? rounded = null;
        foreach (var (output, index) in result.Outputs.Select((o, i) => (o, i)))
        {
            var actual = outputs.Single(o => o.Name == output.OnnxName).AsTensor<float>().ToArray();
            var reference = oracleOutputs is null ? expected[output.IrValue] : new Tensor(expected[output.IrValue].Shape, oracleOutputs[index]);
            Assert.HasCount(reference.Data.Length, actual, $"output {output.OnnxName}: element count");
            var comparison = VerificationReport.Compare("ONNX Runtime", output.OnnxName, reference.Shape, actual, reference.Data, AbsoluteTolerance, RelativeTolerance);
            var largest = reference.Data.Max(MathF.Abs);
            if (comparison.Passed || comparison.MaxAbsoluteError <= MagnitudeFloor * largest)
            {
                continue;
            }

            rounded ??= new ReferenceExecutor(Verifier.WithRoundedWeights(model.Graph)).Run(
                new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputName] = new Tensor(shape, (float[])data.Clone()) },
                [.. result.Outputs.Select(o => o.IrValue)]);
            var unrounded = expected[output.IrValue].Data;
            var floor = VerificationReport.Compare("rounding", output.OnnxName, reference.Shape, rounded[output.IrValue].Data, unrounded, AbsoluteTolerance, RelativeTolerance).MaxAbsoluteError;
            if (comparison.MaxAbsoluteError > Verifier.DefaultFloorFactor * floor)
            {
                failures.Add($"{output.OnnxName}: max abs error {comparison.MaxAbsoluteError:G3}, max rel error {comparison.MaxRelativeError:G3}, largest magnitude {largest:G3}, rounding floor {floor:G3}");
            }
        }

        Assert.IsEmpty(failures, $"ONNX Runtime differs from {oracleName}: " + string.Join("; ", failures));
    }

    /// <summary>A Darknet cfg (text) with seeded synthetic weights, read at <paramref name="inputShape"/> when given.</summary>
    public static Model Darknet(string folder, string cfgText, Shape? inputShape = null, string name = "model", DarknetDialect dialect = DarknetDialect.AlexeyAB)
    {
        var cfg = Path.Combine(folder, name + ".cfg");
        File.WriteAllText(cfg, cfgText);
        return DarknetFile(folder, cfg, inputShape, dialect);
    }

    /// <summary>A Darknet cfg file with seeded synthetic weights written into <paramref name="folder"/>.</summary>
    public static Model DarknetFile(string folder, string cfg, Shape? inputShape = null, DarknetDialect dialect = DarknetDialect.AlexeyAB)
    {
        var weights = Path.Combine(folder, Path.GetFileNameWithoutExtension(cfg) + ".weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(cfg, new ModelReadOptions { InputShape = inputShape, DarknetDialect = dialect }), weights, new SyntheticWeightsOptions { Seed = 3 });
        return ModelFormats.Read(cfg, new ModelReadOptions { InputShape = inputShape, WeightsPath = weights, DarknetDialect = dialect });
    }

    /// <summary>The model after the default passes (BatchNorm folded, dropout removed), as the export normally sees it.</summary>
    public static Model Folded(Model model)
    {
        PassManager.Run(model.Graph);
        return model;
    }
}
