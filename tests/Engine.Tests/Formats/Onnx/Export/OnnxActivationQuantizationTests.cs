using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
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
/// Calibrated activations in the ONNX export (quantize=int8-static): the QDQ arithmetic of a 1x1 conv
/// computed by hand and run by ONNX Runtime, the pairs placed around every quantized layer of a
/// Darknet model (onnx.checker, ONNX Runtime, error against the float model), an uncalibrated value
/// (NM0383), and SqueezeNet 1.1 against torch.
/// </summary>
[TestClass]
public sealed class OnnxActivationQuantizationTests
{
    /// <summary>x (1x2x1x3) → Conv 2→1, 1x1, W = [0.5, -0.25], b = 0.1 → y. Two weights: they stay float, so only the activations x and y are quantized.</summary>
    internal static ModelProto OneByOneConvProto() =>
        TinyOnnx.Model(13, [TinyOnnx.Node("Conv", "conv", ["x", "w", "b"], ["y"], TinyOnnx.Ints("kernel_shape", 1, 1))],
            [TinyOnnx.Values("w", [1, 2, 1, 1], 0.5f, -0.25f), TinyOnnx.Values("b", [1], 0.1f)], inputDims: [1, 2, 1, 3]);

    private static Model OneByOneConv(string folder) => TinyOnnx.Read(OneByOneConvProto(), Path.Combine(folder, "conv.onnx"));

    [TestMethod]
    public void A_quantized_conv_input_computes_the_hand_calculation_in_onnx_runtime()
    {
        using var temp = new TempDirectory();
        var model = OneByOneConv(temp.Path);
        var path = temp.Combine("static.onnx");
        var result = OnnxExporter.Export(model, path, new OnnxExportOptions
        {
            Quantize = WeightQuantization.Int8,
            ActivationRanges = new Dictionary<string, ValueRange>(StringComparer.Ordinal) { ["x"] = new(-1f, 2f), ["y"] = new(-1f, 1.5f) },
        });
        result.ThrowIfRefused();
        StringAssert.Contains(OnnxChecker.Check(path), "QuantizeLinear");

        // Range [-1, 2] (0 inside it): scale = (2 - -1) / 255 = 3/255, zero point = round(0 - -1 / scale) = round(85) = 85.
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var quantize = proto.Graph.Node.Single(n => n.OpType == "QuantizeLinear" && n.Input[0] == "x");
        var scale = proto.Graph.Initializer.Single(t => t.Name == quantize.Input[1]);
        var zeroPoint = proto.Graph.Initializer.Single(t => t.Name == quantize.Input[2]);
        Assert.AreEqual(3f / 255, scale.FloatData.Single(), 1e-9f);
        Assert.IsEmpty(scale.Dims, "per tensor: a scalar scale");
        Assert.AreEqual((int)DT.Uint8, zeroPoint.DataType);
        Assert.AreEqual(85, zeroPoint.Int32Data.Single());

        // q = clamp(round_half_even(x / scale) + 85, 0, 255); x' = (q - 85) * scale:
        //   -1    -> -85 + 85 = 0                 -> -1
        //   0.31  -> round(26.35) = 26 -> 111      -> 26 * 3/255 = 0.3058824
        //   2.6   -> round(221) + 85 = 306 -> 255  -> 170 * 3/255 = 2 (outside the calibrated range: saturated)
        //   0.72  -> round(61.2) = 61 -> 146       -> 0.7176471
        //   1.45  -> round(123.25) = 123 -> 208    -> 1.4470588
        //   -0.4  -> -34 -> 51                     -> -0.4
        // y = 0.5 x0' - 0.25 x1' + 0.1:
        //   -0.5 - 0.1794118 + 0.1 = -0.5794118;  0.1529412 - 0.3617647 + 0.1 = -0.1088235;  1 + 0.1 + 0.1 = 1.2
        // then the output's own pair: range [-1, 1.5], scale 2.5/255 (1 / scale = 102), zero point round(1 * 102) = 102:
        //   -0.5794118 * 102 = -59.1 -> -59 -> -59 * 2.5/255 = -0.5784314;  -11.1 -> -11 -> -0.1078431;  122.4 -> 122 -> 1.1960784
        var y = QuantizedFigures.RunOnnxRuntime(path, [-1f, 0.31f, 2.6f, 0.72f, 1.45f, -0.4f], [1, 2, 1, 3]).Single();
        float[] expected = [-0.5784314f, -0.1078431f, 1.1960784f];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], y[i], 1e-6f, $"position {i}");
        }
    }

    [TestMethod]
    public void A_value_without_a_calibrated_range_is_NM0383()
    {
        using var temp = new TempDirectory();
        var result = OnnxExporter.Export(OneByOneConv(temp.Path), temp.Combine("m.onnx"), new OnnxExportOptions
        {
            Quantize = WeightQuantization.Int8,
            ActivationRanges = new Dictionary<string, ValueRange>(StringComparer.Ordinal),
        });

        Assert.AreEqual(DiagnosticCodes.ExportActivationNotCalibrated.Code, result.Refusals.Single().Diagnostic.Code);
        Assert.IsFalse(File.Exists(temp.Combine("m.onnx")));
    }

    [TestMethod]
    public void Every_quantized_layer_reads_and_writes_through_calibrated_pairs_and_onnx_runtime_runs_it()
    {
        using var temp = new TempDirectory();
        // Conv 3x3x16x32, deconv and FC quantized; the first conv's 432 weights stay float, its input is quantized all the same.
        _ = OnnxRuntimeComparison.Darknet(temp.Path, OnnxWeightQuantizationTests.Net, name: "net");
        var result = ModelConverter.Convert(new ConvertRequest
        {
            DefinitionPath = temp.Combine("net.cfg"),
            To = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8-static" },
            OutputDirectory = temp.Combine("out"),
        });

        Assert.IsTrue(result.Export.Lossy);
        // The inputs and outputs of conv 1, conv 2, the deconv and the FC: x, conv 1, its leaky, conv 2, its leaky,
        // the deconv (linear: also the FC's input, one pair); not the FC's, which the softmax reads: 6.
        Assert.HasCount(6, result.Export.QuantizedActivations, string.Join(", ", result.Export.QuantizedActivations));
        StringAssert.Contains(result.Export.Settings, "6 activations uint8 per tensor");
        Assert.IsNull(result.NotReadBack, "the reader takes the pairs back (Quantize, Power)");
        Assert.IsNotNull(result.ExportAccuracy, "a lossy export is measured");
        OnnxChecker.Check(result.OutputPath);

        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OutputPath));
        foreach (var layer in proto.Graph.Node.Where(n => n.OpType is "Conv" or "ConvTranspose" or "Flatten"))
        {
            var dequantize = proto.Graph.Node.Single(n => n.Output[0] == layer.Input[0]);
            Assert.AreEqual("DequantizeLinear", dequantize.OpType, layer.Name);
            Assert.AreEqual("QuantizeLinear", proto.Graph.Node.Single(n => n.Output[0] == dequantize.Input[0]).OpType, layer.Name);
        }

        foreach (var layer in proto.Graph.Node.Where(n => n.OpType is "Conv" or "ConvTranspose"))
        {
            Assert.AreEqual("QuantizeLinear", proto.Graph.Node.Single(n => n.Input.Contains(layer.Output[0])).OpType, $"{layer.Name}: its output is quantized");
        }

        Assert.AreNotEqual("QuantizeLinear", proto.Graph.Node.Single(n => n.Input.Contains(proto.Graph.Node.Single(g => g.OpType == "Gemm").Output[0])).OpType, "the FC's output, read by the softmax, stays float");

        // The file in ONNX Runtime against the float model in the reference executor, on an input other than the calibration one.
        var model = OnnxRuntimeComparison.Folded(OnnxRuntimeComparison.Darknet(temp.Path, OnnxWeightQuantizationTests.Net, name: "net"));
        var (inputName, shape) = model.Graph.Inputs.First();
        var random = new SplitMix64(11);
        var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)random.Uniform(-1, 1)).ToArray();
        var output = model.Graph.Outputs.Single();
        var expected = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputName] = new Tensor(shape, (float[])input.Clone()) }, [output])[output];
        var actual = QuantizedFigures.RunOnnxRuntime(result.OutputPath, input, [.. shape.Dims.Select(d => (int)d)]).Single();
        var accuracy = OutputAccuracy.Measure("ONNX Runtime", output, expected.Shape, actual, expected.Data);
        TestContext.WriteLine(accuracy.ToString());
        // Measured 0.872% max, 0.296% mean (0.245% / 0.085% with the layer inputs alone quantized; 10.3% when the FC's
        // output, the logits the softmax reads, was quantized too). Bound: 2%; the arithmetic itself is checked by
        // A_quantized_conv_input_computes_the_hand_calculation_in_onnx_runtime and against torch below.
        Assert.IsLessThanOrEqualTo(0.02, accuracy.MaxRelativeError, accuracy.ToString());
        Assert.AreEqual(1.0, accuracy.Top1Agreement, accuracy.ToString());
    }

    [TestMethod]
    public void Real_model_squeezenet_int8_static_against_torch()
    {
        using var temp = new TempDirectory();
        var figure = QuantizedFigures.AgainstTorch("squeezenet1_1", "int8-static", temp.Path);
        TestContext.WriteLine(figure.Row());
        // Measured 1.63% max / 0.19% mean relative error, top-1 kept on all 4 inputs (docs/compression.md);
        // bound: issue 13's int8 target (5%), which weight-only int8 meets too.
        Assert.IsLessThanOrEqualTo(0.05, figure.Accuracy.MaxRelativeError, figure.Row());
        Assert.AreEqual(1.0, figure.Accuracy.Top1Agreement, figure.Row());
        // Measured 0.2797: int8's quarter plus the quantize / dequantize pairs of 26 layers' inputs and outputs, each with its named scalars.
        Assert.IsLessThanOrEqualTo(0.285, figure.FileRatio, figure.Row());
    }

    /// <summary>
    /// SqueezeNet 1.1 calibrated on torch's 4 inputs (given as a folder of .npy), run by ONNX Runtime,
    /// against the same static quantization computed in torch by static_quant_torch.py (its own ranges,
    /// torch.fake_quantize_per_tensor_affine on each conv input, int8 weights): the two should agree far
    /// more closely than either agrees with the float model.
    /// </summary>
    [TestMethod]
    public void Real_model_squeezenet_int8_static_computes_what_torch_fake_quantization_computes()
    {
        using var temp = new TempDirectory();
        var source = OnnxExport.PathOf("squeezenet1_1");
        var (inputs, floatOutputs) = TorchOracle.Read(source);
        Directory.CreateDirectory(temp.Combine("calibration"));
        for (var i = 0; i < inputs.Length; i++)
        {
            var bytes = new byte[inputs[i].Length * sizeof(float)];
            Buffer.BlockCopy(inputs[i], 0, bytes, 0, bytes.Length);
            _ = temp.Write(Path.Combine("calibration", $"input{i}.npy"), Evaluation.NpyFileTests.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }", bytes));
        }

        var written = ModelConverter.Convert(new ConvertRequest
        {
            DefinitionPath = source,
            To = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8-static" },
            EvaluationInputs = Engine.Evaluation.EvaluationInputs.FromPath(temp.Combine("calibration"), Engine.Evaluation.InputPreprocessing.Default),
            OutputDirectory = temp.Combine("out"),
            Verify = VerifyMode.None,
        }).OutputPath;
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "Engine.Tests", "Formats", "Onnx", "static_quant_torch.py");
        _ = Evaluation.PythonScript.Run(temp.Path,
            $"import runpy, sys; sys.argv = ['static_quant_torch.py', 'squeezenet1_1', {Quoted(source[..^".onnx".Length] + ".torch-inputs.f32")}, 'torch-static.f32']; runpy.run_path({Quoted(script)}, run_name='__main__')");
        var torchStatic = File.ReadAllBytes(temp.Combine("torch-static.f32"));
        var expected = new float[torchStatic.Length / sizeof(float)];
        Buffer.BlockCopy(torchStatic, 0, expected, 0, torchStatic.Length);

        var actual = inputs.SelectMany(input => QuantizedFigures.RunOnnxRuntime(written, input, [1, 3, 224, 224]).Single()).ToArray();
        var shape = new Shape(inputs.Length, floatOutputs[0].Length);
        var againstFakeQuant = OutputAccuracy.Measure("ONNX Runtime vs torch fake-quant", "output", shape, actual, expected);
        var againstFloat = OutputAccuracy.Measure("ONNX Runtime vs torch float", "output", shape, actual, [.. floatOutputs.SelectMany(o => o)]);
        TestContext.WriteLine(againstFakeQuant.ToString());
        TestContext.WriteLine(againstFloat.ToString());
        // Measured: 0.557% max / 0.052% mean against torch's fake quantization (0.179% / 0.023% with the layer inputs
        // alone quantized), against the float model: see the message. What remains is rounding: a value within float
        // error of a step's midpoint can land on the other step in either implementation (one step, then carried
        // through the layers after it), and sums run in another order. Bound: 1%, and under half the quantization's own error.
        Assert.AreEqual(1.0, againstFakeQuant.Top1Agreement, againstFakeQuant.ToString());
        Assert.IsLessThanOrEqualTo(0.01, againstFakeQuant.MaxRelativeError, againstFakeQuant.ToString());
        Assert.IsLessThan(againstFloat.MaxRelativeError / 2, againstFakeQuant.MaxRelativeError, $"{againstFakeQuant}; {againstFloat}");
        Assert.IsLessThan(againstFloat.MeanRelativeError / 2, againstFakeQuant.MeanRelativeError, $"{againstFakeQuant}; {againstFloat}");
    }

    private static string Quoted(string path) => "'" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    public TestContext TestContext { get; set; } = null!;
}
