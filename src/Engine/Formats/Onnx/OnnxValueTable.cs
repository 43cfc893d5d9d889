using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// The values of the ONNX graph being read and the IR graph they become: computed values with their
/// shapes, constants (initializers, Constant nodes, folds), and the IR nodes emitted so far with the
/// inputs each had when read (the writer's way back).
/// </summary>
internal sealed class OnnxValueTable(SourceLocation location)
{
    public Graph Graph { get; } = new();

    /// <summary>Shapes of computed values and graph inputs (and of constants that became IR initializers).</summary>
    public Dictionary<string, Shape> Shapes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, OnnxConstant> Constants { get; } = new(StringComparer.Ordinal);

    /// <summary>ONNX node index → the IR inputs its IR node had when read.</summary>
    public Dictionary<int, IReadOnlyList<string>> NodeInputs { get; } = [];

    public SourceLocation Location { get; } = location;

    /// <summary>True when a node, an initializer or a graph input already defines <paramref name="value"/>.</summary>
    public bool IsDefined(string value) => Constants.ContainsKey(value) || Shapes.ContainsKey(value);

    public Shape ShapeOf(string value) =>
        Shapes.TryGetValue(value, out var shape) ? shape
        : Constants.TryGetValue(value, out var c) ? c.Shape
        : throw DiagnosticCodes.OnnxUnknownValue.Exception(Location, $"value '{value}' is produced by no node, initializer or graph input.");

    /// <summary>
    /// A graph output as an IR value. A constant output (an exported SSD's prior boxes: a constant
    /// behind an Identity) becomes an initializer under the output's own name, so the model's
    /// outputs keep their names and every runtime finds them.
    /// </summary>
    public string OutputValue(string name)
    {
        if (Constants.TryGetValue(name, out var c) && !Graph.Initializers.ContainsKey(name))
        {
            TensorData data = c.Tensor is not null && !c.IsInteger ? c.Tensor.FloatData() : new ArrayData([.. c.Elements().Select(v => (float)v)]);
            Graph.Initializers[name] = new Initializer(name, c.Shape, data, c.IsInteger ? DataType.Float32 : DataOf(c.Type));
            Shapes.TryAdd(name, c.Shape);
        }

        return name;
    }

    /// <summary>A node input as an IR value: a computed value as is, a constant as an IR initializer.</summary>
    public string IrValue(NodeProto node, int input)
    {
        var name = node.Input[input];
        if (!Constants.TryGetValue(name, out var c))
        {
            return name;
        }

        if (c.IsInteger)
        {
            // The IR computes in floating point; the operators mapped here take float tensors (type T).
            throw DiagnosticCodes.OnnxTypeMismatch.Exception(Location,
                $"{OnnxNode.Describe(node)} takes input {input} '{name}' of element type {c.Type.ToString().ToUpperInvariant()}; {node.OpType} computes on floating-point tensors (FLOAT, FLOAT16, DOUBLE).");
        }

        var irName = c.Initializer ?? name;
        if (!Graph.Initializers.ContainsKey(irName))
        {
            TensorData data = c.Tensor is not null ? c.Tensor.FloatData() : new ArrayData([.. c.Elements().Select(v => (float)v)]);
            Graph.Initializers[irName] = new Initializer(irName, c.Shape, data, DataOf(c.Type));
            Shapes.TryAdd(irName, c.Shape);
        }

        return irName;
    }

    /// <summary>Adds the IR node standing for ONNX node <paramref name="index"/> and infers its output shapes (later folds need them).</summary>
    public void Emit(int index, NodeProto source, string opType, IEnumerable<string> inputs, Attributes attributes, bool inPlace) =>
        Add(index, source, OnnxNode.NameOf(source), opType, inputs, source.Output.Where(o => o.Length > 0).ToList(), attributes, inPlace, lowered: false);

    /// <summary>
    /// One of the nodes a source node is lowered into (an ONNX Split: one StridedSlice per output),
    /// making output <paramref name="output"/> alone; the first part is named after the node, the
    /// others after their output. Every part is <see cref="LayerOrigin.Lowered"/>, so the writer writes
    /// the source node back when all its parts are there.
    /// </summary>
    public void EmitPart(int index, NodeProto source, int output, string opType, IEnumerable<string> inputs, Attributes attributes)
    {
        var name = OnnxNode.NameOf(source);
        Add(index, source, output == 0 ? name : $"{name}/{source.Output[output]}", opType, inputs, [source.Output[output]], attributes, inPlace: false, lowered: true);
    }

    private void Add(int index, NodeProto source, string name, string opType, IEnumerable<string> inputs, List<string> outputs, Attributes attributes, bool inPlace, bool lowered)
    {
        var origin = new LayerOrigin(index, source.OpType, OnnxNode.NameOf(source), Location) { Lowered = lowered };
        var node = new Node(name, opType, inputs, outputs, origin, attributes) { InPlace = inPlace };
        var shapes = node.Inputs.Select(i => i.Length == 0 ? null : ShapeOf(i)).ToList();
        var result = OpRegistry.Get(node).InferShapes(new OpContext(node, shapes));
        if (result.Length < outputs.Count)
        {
            throw OnnxNode.Invalid(Location, source, $"it has {outputs.Count} outputs; NeuralBuild models {result.Length}");
        }

        for (var i = 0; i < outputs.Count; i++)
        {
            Shapes[outputs[i]] = result[i];
        }

        Graph.Nodes.Add(node);
        NodeInputs[index] = [.. node.Inputs];
    }

    private static Ir.DataType DataOf(DT type) => type switch
    {
        DT.Float16 => Ir.DataType.Float16,
        DT.Int64 => Ir.DataType.Int64,
        DT.Int32 => Ir.DataType.Int32,
        DT.Uint8 or DT.Bool => Ir.DataType.UInt8,
        _ => Ir.DataType.Float32,
    };
}
