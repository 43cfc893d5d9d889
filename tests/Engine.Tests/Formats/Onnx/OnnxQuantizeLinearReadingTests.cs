using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Formats.Onnx.Export;
using NeuralBuild.Engine.Tests.Support;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;
using Tensor = NeuralBuild.Engine.Execution.Tensor;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// QuantizeLinear → DequantizeLinear on a computed value (an int8-static export read back): the IR's
/// Quantize and a Power, computing what ONNX Runtime computes; exported again, the pair runs in ONNX
/// Runtime; a per-axis scale on a computed value is NM0202.
/// </summary>
[TestClass]
public sealed class OnnxQuantizeLinearReadingTests
{
    [TestMethod]
    public void A_quantize_dequantize_pair_reads_as_quantize_and_power_and_runs_as_onnx_runtime_does()
    {
        using var temp = new TempDirectory();
        // x -> QuantizeLinear(scale 3/255, zero point 85, uint8) -> DequantizeLinear -> y.
        var scale = TinyOnnx.Values("s", [], 3f / 255);
        var zeroPoint = new Engine.Formats.Onnx.Proto.TensorProto { Name = "zp", DataType = (int)DT.Uint8 };
        zeroPoint.Int32Data.Add(85);
        var path = temp.Write("qdq.onnx", Google.Protobuf.MessageExtensions.ToByteArray(TinyOnnx.Model(13,
            [TinyOnnx.Node("QuantizeLinear", "q", ["x", "s", "zp"], ["q"]), TinyOnnx.Node("DequantizeLinear", "dq", ["q", "s", "zp"], ["y"])],
            [scale, zeroPoint], inputDims: [1, 6], outputs: ["y"])));
        float[] input = [-1f, 0.31f, 2.6f, 0.72f, 1.45f, -0.4f];

        var model = ModelFormats.Read(path);
        CollectionAssert.AreEqual(new[] { "Quantize", "Power" }, model.Graph.Nodes.Select(n => n.OpType).ToArray());
        var ours = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["x"] = new Tensor(new Shape(1, 6), (float[])input.Clone()) })["y"].Data;
        var onnxRuntime = QuantizedFigures.RunOnnxRuntime(path, input, [1, 6]).Single();
        // By hand (OnnxActivationQuantizationTests): -1, 26 steps, saturated at 170 steps (2), 61, 123 steps, -0.4.
        float[] expected = [-1f, 0.3058824f, 2f, 0.7176471f, 1.4470588f, -0.4f];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], ours[i], 1e-6f, $"reference executor, element {i}");
            Assert.AreEqual(onnxRuntime[i], ours[i], 1e-6f, $"against ONNX Runtime, element {i}");
        }

        // Exported again: QuantizeLinear, Cast, then the Power's Mul and Add; the same values in ONNX Runtime.
        var again = OnnxExporter.Export(model, temp.Combine("again.onnx"), new OnnxExportOptions());
        again.ThrowIfRefused();
        OnnxChecker.Check(again.OnnxPath!);
        var rerun = QuantizedFigures.RunOnnxRuntime(again.OnnxPath!, input, [1, 6]).Single();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], rerun[i], 1e-6f, $"exported again, element {i}");
        }
    }

    [TestMethod]
    public void A_per_axis_scale_on_a_computed_value_is_NM0202()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("axis.onnx", Google.Protobuf.MessageExtensions.ToByteArray(TinyOnnx.Model(13,
            [TinyOnnx.Node("QuantizeLinear", "q", ["x", "s"], ["q"], TinyOnnx.Int("axis", 1)), TinyOnnx.Node("DequantizeLinear", "dq", ["q", "s"], ["y"], TinyOnnx.Int("axis", 1))],
            [TinyOnnx.Values("s", [2], 0.1f, 0.2f)], inputDims: [1, 2], outputs: ["y"])));

        DiagnosticAssert.Throws(DiagnosticCodes.OnnxUnsupportedOperator, () => ModelFormats.Read(path));
    }
}
