using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralBuild.Engine.Budgets;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;
using Tensor = NeuralBuild.Engine.Execution.Tensor;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// Quantized weights in the ONNX export (quantize=int8|fp16): the int8 encoding against values
/// computed by hand, the channel axis per operator, the round trip error bound, and exported files that
/// onnx.checker accepts and ONNX Runtime runs, with their error against the float model measured.
/// </summary>
[TestClass]
public sealed class OnnxWeightQuantizationTests
{
    /// <summary>A conv of 3x3x16x32 (4,608 weights), a transposed conv of 32x8x2x2 (1,024), an FC of 2048x10: all quantized; the 3x3x3x16 first conv (432) stays float.</summary>
    internal const string Net = "[net]\nwidth=8\nheight=8\nchannels=3\n\n"
        + "[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
        + "[convolutional]\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
        + "[deconvolutional]\nfilters=8\nsize=2\nstride=2\nactivation=linear\n\n"
        + "[connected]\noutput=10\nactivation=linear\n\n[softmax]\n";

    [TestMethod]
    public void Int8_encoding_of_a_known_tensor_matches_the_hand_computed_one()
    {
        // Channel 0: [-1, 0.55, 2, 0]: range [-1, 2], scale 3/255, zero point round(-128 + 1 / (3/255)) = round(-43) = -43;
        // q = round(w / scale) - 43: -85 - 43 = -128; round(46.75) - 43 = 4; 170 - 43 = 127; -43.
        // Channel 1: [0.1, 0.4, 0.25, 0]: the range widens to [0, 0.4] (0 exact), scale 0.4/255, zero point -128;
        // q: round(63.75) - 128 = -64; 255 - 128 = 127; round(159.375) - 128 = 31; -128.
        var data = new ArrayData([-1f, 0.55f, 2f, 0f, 0.1f, 0.4f, 0.25f, 0f]);
        var encoding = Int8ChannelEncoding.Measure(data, [2, 4], axis: 0);

        Assert.AreEqual(3f / 255, encoding.Scales[0], 1e-9f);
        Assert.AreEqual(0.4f / 255, encoding.Scales[1], 1e-9f);
        CollectionAssert.AreEqual(new sbyte[] { -43, -128 }, encoding.ZeroPoints);
        CollectionAssert.AreEqual(new float[] { -128, 4, 127, -43, -64, 127, 31, -128 }, encoding.Encode(data).ToArray());
    }

    [TestMethod]
    public void The_channel_axis_can_be_the_second_one()
    {
        // The same two channels stored as columns (a Gemm with transB=0, a ConvTranspose's axis 1).
        var data = new ArrayData([-1f, 0.1f, 0.55f, 0.4f, 2f, 0.25f, 0f, 0f]);
        var encoding = Int8ChannelEncoding.Measure(data, [4, 2], axis: 1);

        CollectionAssert.AreEqual(new sbyte[] { -43, -128 }, encoding.ZeroPoints);
        CollectionAssert.AreEqual(new float[] { -128, -64, 4, 127, 127, 31, -43, -128 }, encoding.Encode(data).ToArray());
    }

    [TestMethod]
    public void An_all_zero_channel_has_scale_1_and_zero_point_0()
    {
        var encoding = Int8ChannelEncoding.Measure(new ArrayData([0f, 0f, 1f, -1f]), [2, 2], axis: 0);
        Assert.AreEqual(1f, encoding.Scales[0]);
        Assert.AreEqual((sbyte)0, encoding.ZeroPoints[0]);
    }

    [TestMethod]
    public void Dequantized_values_are_within_half_a_step_of_the_original()
    {
        var random = new SplitMix64(7);
        var values = new float[6 * 500];
        for (var i = 0; i < values.Length; i++)
        {
            // Channels of very different ranges, one all positive.
            var channel = i / 500;
            values[i] = (float)random.Uniform(channel == 5 ? 0.5 : -0.1 * (channel + 1), 0.3 * (channel + 1));
        }

        var data = new ArrayData(values);
        var encoding = Int8ChannelEncoding.Measure(data, [6, 500], axis: 0);
        var q = encoding.Encode(data).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            var c = i / 500;
            // DequantizeLinear, as the ONNX spec defines it.
            var dequantized = (q[i] - encoding.ZeroPoints[c]) * encoding.Scales[c];
            Assert.IsLessThanOrEqualTo(encoding.Scales[c] / 2 * 1.0001, Math.Abs(dequantized - values[i]), $"element {i}");
        }
    }

    [TestMethod]
    public void Int8_export_quantizes_conv_deconv_and_fc_along_their_output_axis_and_runs_in_onnx_runtime()
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, Net));
        var result = Export(model, temp.Combine("int8.onnx"), WeightQuantization.Int8);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));

        var dequantize = proto.Graph.Node.Where(n => n.OpType == "DequantizeLinear").ToList();
        Assert.HasCount(3, dequantize, "the conv of 4,608 weights, the deconv and the FC; the first conv (432 weights) stays float");
        var consumers = dequantize.ToDictionary(d => proto.Graph.Node.Single(n => n.Input.Contains(d.Output[0])).OpType, d => d);
        Assert.AreEqual(0, consumers["Conv"].Attribute.Single(a => a.Name == "axis").I);
        Assert.AreEqual(1, consumers["ConvTranspose"].Attribute.Single(a => a.Name == "axis").I);
        Assert.AreEqual(0, consumers["Gemm"].Attribute.Single(a => a.Name == "axis").I, "darknet stores FC weights outputs x inputs (transB=1)");
        foreach (var node in dequantize)
        {
            var values = proto.Graph.Initializer.Single(t => t.Name == node.Input[0]);
            Assert.AreEqual((int)DT.Int8, values.DataType);
            Assert.AreEqual(values.Dims[(int)node.Attribute.Single(a => a.Name == "axis").I], proto.Graph.Initializer.Single(t => t.Name == node.Input[1]).Dims[0]);
        }

        Assert.IsFalse(proto.Graph.Initializer.Any(t => t.DataType == (int)DT.Float && t.Dims.Aggregate(1L, (a, b) => a * b) >= OnnxWeightQuantizer.MinimumElements),
            "no float copy of a quantized weight is left in the file");
        var measured = MeasureInOnnxRuntime(model, result);
        Assert.IsLessThanOrEqualTo(0.05, measured.MaxRelativeError, measured.ToString());
        Assert.AreEqual(1.0, measured.Top1Agreement);
    }

    [TestMethod]
    public void A_constant_matmul_operand_is_quantized_per_output_column()
    {
        using var temp = new TempDirectory();
        // x (1 x 64) · B (64 x 32): B's output channel is its second axis, 2,048 weights.
        var source = TinyOnnx.Model(13, [TinyOnnx.Node("MatMul", "mm", ["x", "b"], ["y"])], [TinyOnnx.Random("b", 5, -1, 1, 64, 32)], inputDims: [1, 64]);
        var model = TinyOnnx.Read(source, temp.Combine("mm.onnx"));
        var result = Export(model, temp.Combine("int8.onnx"), WeightQuantization.Int8);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));

        var dequantize = proto.Graph.Node.Single(n => n.OpType == "DequantizeLinear");
        var consumer = proto.Graph.Node.Single(n => n.Input.Contains(dequantize.Output[0]));
        var axis = dequantize.Attribute.Single(a => a.Name == "axis").I;
        Assert.AreEqual(consumer.OpType == "Gemm" && consumer.Attribute.Any(a => a.Name == "transB" && a.I == 1) ? 0 : 1, axis, consumer.OpType);
        Assert.AreEqual(32, proto.Graph.Initializer.Single(t => t.Name == dequantize.Input[1]).Dims[0]);
        var measured = MeasureInOnnxRuntime(model, result);
        Assert.IsLessThanOrEqualTo(0.02, measured.MaxRelativeError, measured.ToString());
    }

    [TestMethod]
    public void Float16_export_casts_the_weights_and_stays_within_half_a_percent()
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, Net));
        var result = Export(model, temp.Combine("fp16.onnx"), WeightQuantization.Float16);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OnnxPath!));

        Assert.HasCount(3, proto.Graph.Node.Where(n => n.OpType == "Cast"));
        Assert.HasCount(3, proto.Graph.Initializer.Where(t => t.DataType == (int)DT.Float16));
        var measured = MeasureInOnnxRuntime(model, result);
        Assert.IsLessThanOrEqualTo(0.005, measured.MaxRelativeError, measured.ToString());
    }

    [TestMethod]
    public void Quantized_weights_refuse_an_external_data_file()
    {
        using var temp = new TempDirectory();
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, Net));
        DiagnosticAssert.Throws(DiagnosticCodes.ExportQuantizedExternalData,
            () => OnnxExporter.Export(model, temp.Combine("m.onnx"), new OnnxExportOptions { Quantize = WeightQuantization.Int8, ExternalData = true }));
        Assert.IsFalse(File.Exists(temp.Combine("m.onnx")));
    }

    [TestMethod]
    public void Real_model_squeezenet_int8_is_a_quarter_of_the_size_and_keeps_the_top1_class()
    {
        using var temp = new TempDirectory();
        var source = OnnxExport.PathOf("squeezenet1_1");
        var result = ModelConverter.Convert(new ConvertRequest
        {
            DefinitionPath = source,
            To = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8" },
            OutputDirectory = temp.Path,
            MaxOutputError = 0.05,
        });

        Assert.IsTrue(result.Export.Lossy);
        Assert.IsNull(result.ExportVerification, "a lossy export is measured, not proven equal");
        var ratio = (double)new FileInfo(result.OutputPath).Length / new FileInfo(source).Length;
        Assert.IsLessThanOrEqualTo(0.27, ratio);
        var output = result.ExportAccuracy!.Outputs.Single();
        Assert.AreEqual(1.0, output.Top1Agreement, output.ToString());
        Assert.IsLessThanOrEqualTo(0.05, output.MaxRelativeError, output.ToString());
        OnnxChecker.Check(result.OutputPath);
    }

    [TestMethod]
    public void An_output_error_over_the_budget_is_NM1010_naming_the_layers()
    {
        using var temp = new TempDirectory();
        var cfg = temp.Combine("net.cfg");
        _ = OnnxRuntimeComparison.Darknet(temp.Path, Net, name: "net");
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OutputErrorBudgetExceeded, () => ModelConverter.Convert(new ConvertRequest
        {
            DefinitionPath = cfg,
            To = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8" },
            OutputDirectory = temp.Combine("out"),
            MaxOutputError = 1e-7,
        }));
        StringAssert.Contains(error.Message, "[connected]");
        Assert.IsFalse(Directory.Exists(temp.Combine("out")) && Directory.EnumerateFiles(temp.Combine("out")).Any());
    }

    [TestMethod]
    public void The_builds_quantized_export_is_measured_per_layer_and_its_metrics_are_the_compressed_ones()
    {
        using var temp = new TempDirectory();
        _ = OnnxRuntimeComparison.Darknet(temp.Path, Net, name: "net");
        OptimizeResult Optimize(string quantize, string output) => ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = temp.Combine("net.cfg"),
            ExportFormat = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = quantize },
            OutputDirectory = temp.Combine(output),
        });

        var exact = Optimize("none", "exact").ToMetrics();
        var quantized = Optimize("int8", "int8");
        var metrics = quantized.ToMetrics();

        // By hand: layer 0's 432 weights stay float (under 1,024). Stored as int8 plus a float scale and an
        // int8 zero point per channel: layer 1, 4,608 weights, 32 channels: 18,432 -> 4,608 + 160 bytes;
        // layer 2 (deconv), 1,024 weights, 8 channels: 4,096 -> 1,024 + 40; layer 3 (connected),
        // 16x16x8 = 2,048 inputs x 10: 81,920 -> 20,480 + 50. Saved: 13,664 + 3,032 + 61,390 = 78,086.
        Assert.AreEqual(exact.Value(BudgetMetric.WeightsSize) - 78_086, metrics.Value(BudgetMetric.WeightsSize));
        Assert.AreEqual(exact.Value(BudgetMetric.Params), metrics.Value(BudgetMetric.Params));
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, quantized.LayerOutputErrors.Keys.Order().ToArray());
        Assert.IsTrue(quantized.LayerOutputErrors.Values.All(e => e is > 0 and < 0.1), string.Join(", ", quantized.LayerOutputErrors));
        Assert.IsNull(metrics.Layers.Single(l => l.Index == 0).OutputError, "layer 0 is stored exactly");
        Assert.AreEqual(quantized.LayerOutputErrors[3], metrics.Layers.Single(l => l.Index == 3).OutputError);

        // The whole export's measured error, kept for MaxOutputError; every layer alone moves the output less than all together, within rounding.
        var accuracy = metrics.Accuracy!;
        Assert.AreEqual("int8 per channel", accuracy.Encoding);
        Assert.AreEqual(quantized.ExportAccuracy!.Outputs.Max(o => o.MaxRelativeError), accuracy.Worst.MaxRelativeError);
        var roundTrip = ModelMetrics.Parse(metrics.ToJson());
        Assert.AreEqual(accuracy.Worst.MaxRelativeError, roundTrip.Accuracy!.Worst.MaxRelativeError);
        Assert.AreEqual(quantized.LayerOutputErrors[2], roundTrip.Layers.Single(l => l.Index == 2).OutputError);
        Assert.IsNull(exact.Accuracy);
    }

    [TestMethod]
    public void Convert_counts_the_written_files_weights_as_stored_not_as_read_back()
    {
        using var temp = new TempDirectory();
        _ = OnnxRuntimeComparison.Darknet(temp.Path, Net, name: "net");
        ConvertResult Convert(string quantize) => ModelConverter.Convert(new ConvertRequest
        {
            DefinitionPath = temp.Combine("net.cfg"),
            To = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = quantize },
            OutputDirectory = temp.Combine(quantize),
        });

        var exact = Convert("none");
        var quantized = Convert("int8");

        // The bytes worked by hand in The_builds_quantized_export_is_measured_per_layer…: 78,086 fewer than float32.
        Assert.AreEqual(exact.After.Totals.WeightsBytes - 78_086, quantized.After.Totals.WeightsBytes);
        Assert.AreEqual(exact.After.Totals.Params, quantized.After.Totals.Params);
    }

    private static OnnxExportResult Export(Model model, string path, WeightQuantization quantization)
    {
        var result = OnnxExporter.Export(model, path, new OnnxExportOptions { Quantize = quantization });
        result.ThrowIfRefused();
        OnnxChecker.Check(path);
        return result;
    }

    /// <summary>The exported file in ONNX Runtime against the float model in the reference executor, on a seeded input.</summary>
    private static OutputAccuracy MeasureInOnnxRuntime(Model model, OnnxExportResult result)
    {
        var (inputName, shape) = model.Graph.Inputs.First();
        var random = new SplitMix64(11);
        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.Uniform(-1, 1);
        }

        var output = result.Outputs.Single();
        var expected = new ReferenceExecutor(model.Graph).Run(
            new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputName] = new Tensor(shape, (float[])data.Clone()) }, [output.IrValue])[output.IrValue];
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(result.OnnxPath!, options);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(result.Inputs[0].OnnxName, new DenseTensor<float>(data, [.. shape.Dims.Select(d => (int)d)]))]);
        var actual = outputs.Single(o => o.Name == output.OnnxName).AsTensor<float>().ToArray();
        return OutputAccuracy.Measure("ONNX Runtime", output.OnnxName, expected.Shape, actual, expected.Data);
    }
}
