using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// The uint8 per-tensor encoding of one activation (<c>quantize=int8-static</c>), from the range the
/// tensor took on the calibration inputs, widened to include 0 so that 0 (padding, ReLU's floor) is
/// exact, as ONNX Runtime's MinMax calibrator does: scale = (max - min) / 255, zero point =
/// round(-min / scale) in 0..255. QuantizeLinear then computes q = saturate(round_half_even(x / scale)
/// + zero point) and DequantizeLinear (q - zero point) * scale, so a value inside the range comes back
/// within scale / 2, and one outside it is clamped to the range's end. uint8 rather than int8 for
/// activations: the pairing (uint8 activations, int8 weights) ONNX Runtime's static quantizer writes by
/// default and its integer kernels take. A range of width 0 (a tensor that was always 0) has scale 1.
/// </summary>
internal static class Uint8TensorEncoding
{
    public static (float Scale, byte ZeroPoint) Parameters(ValueRange range)
    {
        double min = Math.Min(range.Min, 0f), max = Math.Max(range.Max, 0f);
        if (max - min <= 0 || !double.IsFinite(max - min))
        {
            return (1f, 0);
        }

        var scale = (float)((max - min) / 255.0);
        var zeroPoint = Math.Clamp(Math.Round(-min / scale, MidpointRounding.ToEven), 0, 255);
        return (scale, (byte)zeroPoint);
    }
}

/// <summary>
/// Static activation quantization in QDQ form: the data input of each layer whose weights the int8
/// export quantizes (Conv, ConvTranspose, FullyConnected → Gemm, MatMul with a constant 2-D operand),
/// and its output where the ranges hold one (<see cref="CalibratedValues"/> asks for those read only by
/// integer-friendly operators), go through QuantizeLinear → DequantizeLinear with their calibrated
/// per-tensor uint8 scale and zero point (<see cref="Uint8TensorEncoding"/>). Outputs too, because a
/// runtime fuses DequantizeLinear → layer → QuantizeLinear into one integer kernel (ONNX Runtime's
/// QLinearConv) only when the layer's output is quantized; any other runtime runs the float layer on the
/// rounded values, which computes the same. A value gets one pair however many such layers read it (a
/// layer's quantized output read directly by the next is not quantized again).
/// </summary>
internal static class OnnxActivationQuantizer
{
    /// <summary>
    /// The values whose ranges the export needs, in graph order, each once: the data input of every layer
    /// it quantizes, and its output where only integer-friendly operators read it (<see cref="ReadersTakeIntegers"/>).
    /// </summary>
    public static IReadOnlyList<string> CalibratedValues(Graph graph)
    {
        var readers = graph.BuildConsumers();
        return [.. graph.Nodes.Where(n => QuantizesInput(graph, n))
            .SelectMany(n => ReadersTakeIntegers(graph, readers, n.Outputs[0]) ? new[] { n.Inputs[0], n.Outputs[0] } : [n.Inputs[0]])
            .Where(v => !graph.Initializers.ContainsKey(v)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// True when a layer's output is worth quantizing: not a model output, and read only by quantized layers
    /// and by operators that pass 8-bit values on as ONNX Runtime's QDQ kernels do (activations, pools,
    /// concatenation, element-wise arithmetic, reshapes). A head read by a decoder (a yolo layer's exp, a
    /// softmax) stays float: a step of its input would be amplified in what the application reads.
    /// </summary>
    private static bool ReadersTakeIntegers(Graph graph, Dictionary<string, List<Node>> readers, string value) =>
        !graph.Outputs.Contains(value) && readers.TryGetValue(value, out var nodes)
        && nodes.All(r => QuantizesInput(graph, r) || s_integerReaders.Contains(r.OpType));

    private static readonly HashSet<string> s_integerReaders = new(StringComparer.Ordinal)
    {
        "Activation", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Concat", "Arithmetic", "Flatten", "Reshape",
    };

    /// <summary>
    /// The ONNX name of the node's data input (input 0): through a QuantizeLinear → DequantizeLinear pair
    /// when the export quantizes activations, as given otherwise. A value without a measured range is a
    /// calibration that did not run on this graph: NM0383.
    /// </summary>
    public static string Input(OnnxLoweringContext c)
    {
        if (c.ActivationRanges is null || c.Weight(0) is not null)
        {
            return c.Input(0);
        }

        var pair = c.QuantizedActivation(c.Node.Inputs[0]) ?? Pair(c, c.Node.Inputs[0], c.Input(0), into: null);
        pair.Readers.Add(c.Node.Origin);
        return pair.Dequantized;
    }

    /// <summary>Where the layer's last float node writes: its ONNX output, or (its output quantized) a fresh value <see cref="Output"/> then quantizes.</summary>
    public static string? OutputInto(OnnxLoweringContext c) => QuantizesOutput(c) ? null : c.Output();

    /// <summary>The layer's float result <paramref name="produced"/> through a pair into its ONNX output when its output is quantized (else it is the output already).</summary>
    public static void Output(OnnxLoweringContext c, string produced)
    {
        if (QuantizesOutput(c))
        {
            _ = Pair(c, c.Node.Outputs[0], produced, into: c.Output());
        }
    }

    /// <summary>A layer's output is quantized when the ranges hold it: the calibration measures those <see cref="CalibratedValues"/> chose.</summary>
    private static bool QuantizesOutput(OnnxLoweringContext c) => c.ActivationRanges?.ContainsKey(c.Node.Outputs[0]) == true;

    /// <summary>
    /// QuantizeLinear → DequantizeLinear of <paramref name="source"/> (IR value <paramref name="value"/>) with the value's
    /// calibrated encoding; recorded, so that readers reuse it. Into the layer's output (<paramref name="into"/>), the
    /// layer is its producer: every reader reads the rounded value.
    /// </summary>
    private static ActivationPair Pair(OnnxLoweringContext c, string value, string source, string? into)
    {
        if (!c.ActivationRanges!.TryGetValue(value, out var range))
        {
            throw c.Refuse(DiagnosticCodes.ExportActivationNotCalibrated,
                $"'{value}' has no calibrated range; quantize=int8-static is calibrated on the model it exports (convert and the build do this).");
        }

        var (scale, zeroPoint) = Uint8TensorEncoding.Parameters(range);
        var stem = "activation_" + OnnxExportGraph.Sanitise(value);
        var scaleName = c.Scalar(stem + "/scale", scale);
        var zeroPointName = c.ZeroPoint(stem + "/zero_point", zeroPoint, signed: false);
        var quantized = c.Emit("QuantizeLinear", [source, scaleName, zeroPointName]);
        var dequantized = c.Emit("DequantizeLinear", [quantized, scaleName, zeroPointName], null, into);
        var pair = new ActivationPair(dequantized, scale, zeroPoint, into is null ? null : c.Node.Origin);
        c.RecordQuantizedActivation(value, pair);
        return pair;
    }

    /// <summary>
    /// The IR's Quantize (read from a file with calibrated activations) → QuantizeLinear, then Cast to
    /// float: the IR holds the integers as float, and so does the lowering's output.
    /// </summary>
    public static void Quantize(OnnxLoweringContext c)
    {
        var (scale, zeroPoint, qmin, qmax) = c.Node.AttributesAs<QuantizeAttributes>();
        var signed = qmin < 0;
        if ((qmin, qmax) != (signed ? (-128L, 127L) : (0L, 255L)))
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible, $"quantization onto [{qmin}, {qmax}]: QuantizeLinear writes uint8 (0..255) or int8 (-128..127).");
        }

        var quantized = c.Emit("QuantizeLinear", [c.Input(0), c.Scalar("scale", (float)scale), c.ZeroPoint("zero_point", zeroPoint, signed)]);
        c.Emit("Cast", [quantized], [OnnxExportGraph.Int("to", (long)Proto.TensorProto.Types.DataType.Float)], c.Output());
    }

    /// <summary>True when the export quantizes this node's weights: the layers whose data input it quantizes too.</summary>
    private static bool QuantizesInput(Graph graph, Node node) => node.OpType switch
    {
        "Conv" => !node.AttributesAs<ConvAttributes>().Xnor,
        "ConvTranspose" or "FullyConnected" => true,
        "MatMul" => node.Inputs.Count > 1 && graph.Initializers.TryGetValue(node.Inputs[1], out var b) && b.Shape.Rank == 2,
        _ => false,
    };

    /// <summary>Parses the <c>quantize</c> option's value: the weights' encoding, and whether activations are quantized too.</summary>
    public static (WeightQuantization Weights, bool Activations)? Parse(string text) =>
        text == StaticOption ? (WeightQuantization.Int8, true)
        : OnnxWeightQuantizer.Parse(text) is { } weights ? (weights, false)
        : null;

    /// <summary>The <c>quantize</c> value of int8 weights and calibrated uint8 activations.</summary>
    public const string StaticOption = "int8-static";
}

/// <summary>
/// One activation's QuantizeLinear → DequantizeLinear pair as written: the ONNX name its readers read, its
/// encoding, the layer whose output it is written into (null: written on the way into a reader), and the
/// quantized layers reading it.
/// </summary>
internal sealed record ActivationPair(string Dequantized, float Scale, byte ZeroPoint, LayerOrigin? Producer)
{
    public List<LayerOrigin> Readers { get; } = [];
}
