using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// What a lowering works with: one IR node, the shapes around it, and the emission of ONNX nodes
/// into the graph. Every node it emits is named after the source layer and carries the layer's file
/// and line in its <c>doc_string</c>; the last one writes the IR node's output under its ONNX name
/// (<see cref="Output"/>). Helpers for the building blocks several lowerings share live here.
/// </summary>
internal sealed class OnnxLoweringContext(OnnxExportGraph graph, Node node)
{
    private readonly List<(string Name, string OpType)> _emitted = [];

    public Node Node { get; } = node;

    public int Opset => graph.Opset;

    /// <summary>How the export stores layer weights (<see cref="OnnxWeightQuantizer"/>).</summary>
    public WeightQuantization Quantization => graph.Quantization;

    /// <summary>Calibrated ranges of the values whose activations the export quantizes (<see cref="OnnxActivationQuantizer"/>); null: activations stay float.</summary>
    public IReadOnlyDictionary<string, ValueRange>? ActivationRanges => graph.ActivationRanges;

    /// <summary>The quantize / dequantize pair IR value <paramref name="irValue"/> is already read through, or null.</summary>
    public ActivationPair? QuantizedActivation(string irValue) => graph.QuantizedActivations.GetValueOrDefault(irValue);

    public void RecordQuantizedActivation(string irValue, ActivationPair pair) => graph.QuantizedActivations.Add(irValue, pair);

    /// <summary>The ONNX nodes emitted for this IR node so far.</summary>
    public IReadOnlyList<(string Name, string OpType)> Emitted => _emitted;

    public bool HasInput(int index) => index < Node.Inputs.Count && Node.Inputs[index].Length > 0;

    /// <summary>The ONNX name of IR input <paramref name="index"/> (an IR weight becomes an initializer).</summary>
    public string Input(int index) => graph.ValueName(Node.Inputs[index]);

    public Shape InputShape(int index) => graph.Shapes[Node.Inputs[index]];

    public Shape OutputShape(int index = 0) => graph.Shapes[Node.Outputs[index]];

    /// <summary>The ONNX name of IR output <paramref name="index"/>: the last node of the lowering writes it.</summary>
    public string Output(int index = 0) => graph.ValueName(Node.Outputs[index]);

    /// <summary>IR input <paramref name="index"/> as a weight of the graph (for lowerings that compute constants from it), or null when it is computed.</summary>
    public Initializer? Weight(int index) =>
        HasInput(index) && graph.Source.Initializers.TryGetValue(Node.Inputs[index], out var initializer) ? initializer : null;

    /// <summary>IR weight input <paramref name="index"/> seen with other dims (a per-channel vector as C x 1 x 1): same data, streamed, not copied.</summary>
    public string WeightAs(int index, IReadOnlyList<long> dims)
    {
        var weight = Weight(index) ?? throw Refuse(DiagnosticCodes.ExportNotExpressible, $"input {index} ('{Node.Inputs[index]}') is computed, where ONNX needs a constant.");
        return graph.Weight(weight, dims);
    }

    /// <summary>A weight the export computes from the IR's (streamed like the IR's own, never held whole).</summary>
    public string DerivedWeight(string stem, TensorData data, Shape shape) =>
        graph.Weight(new Initializer(Output() + "/" + stem, shape, data), shape.Dims);

    /// <summary>The values of a small IR weight input, read now (statistics, shortcut weights).</summary>
    public float[] WeightValues(int index)
    {
        var weight = Weight(index) ?? throw Refuse(DiagnosticCodes.ExportNotExpressible, $"input {index} ('{Node.Inputs[index]}') is computed, where ONNX needs a constant.");
        return weight.Data!.ToArray();
    }

    /// <summary>A weight initializer of another element type (<see cref="OnnxWeightQuantizer"/>), its values streamed when written.</summary>
    public string QuantizedInitializer(string stem, DT type, IReadOnlyList<long> dims, TensorData data) => graph.QuantizedWeight(stem, type, dims, data);

    public void RecordQuantized(LossyWeight weight) => graph.Quantized.Add(weight);

    /// <summary>Emits one ONNX node; its output is a fresh value, or <paramref name="into"/> (use <see cref="Output"/> for the last node).</summary>
    public string Emit(string opType, IEnumerable<string> inputs, IEnumerable<AttributeProto>? attributes = null, string? into = null)
    {
        var output = into ?? graph.Unique(Output() + "/" + opType.ToLowerInvariant());
        EmitMany(opType, inputs, [output], attributes);
        return output;
    }

    /// <summary>Emits one ONNX node with several outputs.</summary>
    public void EmitMany(string opType, IEnumerable<string> inputs, IReadOnlyList<string> outputs, IEnumerable<AttributeProto>? attributes = null)
    {
        var location = Node.Origin.Location;
        var proto = new NodeProto
        {
            OpType = opType,
            Name = graph.Unique(OnnxExportGraph.Sanitise(Node.Name) + "/" + opType),
            DocString = string.Create(CultureInfo.InvariantCulture,
                $"{Node.Origin.Kind} '{Node.Origin.Name}' (layer {Node.Origin.Index}) at {location}; IR {Node.OpType} '{Node.Name}'"),
        };
        proto.Input.AddRange(inputs);
        proto.Output.AddRange(outputs);
        if (attributes is not null)
        {
            proto.Attribute.AddRange(attributes);
        }

        graph.Nodes.Add(proto);
        _emitted.Add((proto.Name, opType));
    }

    /// <summary>A refusal of this node with <paramref name="code"/>: the export records it, names the layer and goes on with the others.</summary>
    public OnnxExportRefusedException Refuse(DiagnosticDescriptor code, string reason) =>
        new(code.At(Node.Origin.Location, string.Create(CultureInfo.InvariantCulture, $"layer {Node.Origin.Index} [{Node.Origin.Kind}] '{Node.Origin.Name}': {reason}")));

    // ------------------------------------------------------------------------------------------
    // Constants.

    public string Floats(string stem, float[] values, params long[] dims) =>
        graph.Constant(Output() + "/" + stem, DT.Float, dims, t => t.FloatData.AddRange(values));

    public string Scalar(string stem, float value) => Floats(stem, [value]);

    public string Int64s(string stem, params long[] values) => Int64s(stem, values, [values.Length]);

    public string Int64s(string stem, long[] values, long[] dims) =>
        graph.Constant(Output() + "/" + stem, DT.Int64, dims, t => t.Int64Data.AddRange(values));

    public string Int8s(string stem, sbyte[] values) =>
        graph.Constant(Output() + "/" + stem, DT.Int8, [values.Length], t => t.Int32Data.AddRange(values.Select(v => (int)v)));

    /// <summary>A per-tensor zero point: a scalar (dims []) of uint8, or of int8 when <paramref name="signed"/>.</summary>
    public string ZeroPoint(string stem, long value, bool signed) =>
        graph.Constant(Output() + "/" + stem, signed ? DT.Int8 : DT.Uint8, [], t => t.Int32Data.Add((int)value));

    public string Bools(string stem, bool[] values, params long[] dims) =>
        graph.Constant(Output() + "/" + stem, DT.Bool, dims, t => t.Int32Data.AddRange(values.Select(v => v ? 1 : 0)));

    /// <summary>The dims of a per-channel constant for an input of <paramref name="rank"/>: C then ones (C alone for a rank-2 input).</summary>
    public static long[] ChannelDims(long channels, int rank) => [channels, .. Enumerable.Repeat(1L, Math.Max(0, rank - 2))];

    // ------------------------------------------------------------------------------------------
    // Building blocks.

    public string Unary(string opType, string x, string? into = null) => Emit(opType, [x], null, into);

    public string Binary(string opType, string a, string b, string? into = null) => Emit(opType, [a, b], null, into);

    /// <summary>
    /// Reshape to <paramref name="dims"/>. Axis 0 is written as 0 (ONNX: keep the input's) when it is
    /// the batch the input has, so a symbolic batch flows through.
    /// </summary>
    public string Reshape(string x, Shape from, IReadOnlyList<long> dims, string? into = null)
    {
        var target = dims.ToArray();
        if (target.Length > 0 && from.Rank > 0 && target[0] == from[0])
        {
            target[0] = 0;
        }

        return Emit("Reshape", [x, Int64s("shape", target)], null, into);
    }

    /// <summary>ONNX Slice of <paramref name="x"/>: starts, ends, axes, steps as int64 inputs.</summary>
    public string Slice(string x, long[] starts, long[] ends, long[] axes, long[]? steps = null, string? into = null)
    {
        List<string> inputs = [x, Int64s("starts", starts), Int64s("ends", ends), Int64s("axes", axes)];
        if (steps is not null)
        {
            inputs.Add(Int64s("steps", steps));
        }

        return Emit("Slice", inputs, null, into);
    }

    /// <summary>ONNX Pad (opset 11+: pads and the constant as inputs), begins of every axis then ends.</summary>
    public string Pad(string x, long[] pads, float value, string mode = "constant", string? into = null)
    {
        List<string> inputs = [x, Int64s("pads", pads)];
        if (mode == "constant")
        {
            inputs.Add(Scalar("pad_value", value));
        }

        return Emit("Pad", inputs, [OnnxExportGraph.String("mode", mode)], into);
    }

    /// <summary>A reduction over <paramref name="axes"/>: axes are an attribute before opset 18 and an input from it (ReduceSum: from 13).</summary>
    public string Reduce(string opType, string x, long[] axes, bool keepDims, string? into = null)
    {
        var axesAsInput = opType == "ReduceSum" || Opset >= 18;
        var keep = OnnxExportGraph.Int("keepdims", keepDims ? 1 : 0);
        return axesAsInput
            ? Emit(opType, [x, Int64s("axes", axes)], [keep], into)
            : Emit(opType, [x], [OnnxExportGraph.Ints("axes", axes), keep], into);
    }

    /// <summary>Where(<paramref name="condition"/>, a, b).</summary>
    public string Where(string condition, string a, string b, string? into = null) => Emit("Where", [condition, a, b], null, into);
}

/// <summary>A node the export cannot lower: carries the coded diagnostic the result records.</summary>
internal sealed class OnnxExportRefusedException(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}
