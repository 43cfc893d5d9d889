using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// One ONNX node as its mapper and folder see it: its attributes, its inputs as IR values or as
/// constants, the model's opset, and the node's own diagnostics (NM0209 naming the node).
/// </summary>
internal sealed class OnnxNode
{
    private readonly OnnxValueTable _values;

    public OnnxNode(NodeProto proto, int index, long opset, OnnxValueTable values, string path)
    {
        Proto = proto;
        Index = index;
        Opset = opset;
        Path = path;
        _values = values;
        Attr = new OnnxAttributeReader(this);
    }

    public NodeProto Proto { get; }

    /// <summary>Index of the node in the file's graph (the IR node's <see cref="LayerOrigin.Index"/>).</summary>
    public int Index { get; }

    /// <summary>Version of the default operator set the model imports.</summary>
    public long Opset { get; }

    /// <summary>The model file (external data is found beside it).</summary>
    public string Path { get; }

    public OnnxAttributeReader Attr { get; }

    public string OpType => Proto.OpType;

    public string Name => NameOf(Proto);

    /// <summary>The first input's name as written (empty when there is none).</summary>
    public string X => Proto.Input.Count > 0 ? Proto.Input[0] : string.Empty;

    public SourceLocation Location => _values.Location;

    public static string NameOf(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault(o => o.Length > 0) ?? node.OpType;

    public static string Describe(NodeProto node) => $"node '{NameOf(node)}' ({node.OpType})";

    public static NeuralException Invalid(SourceLocation location, NodeProto node, string message) =>
        DiagnosticCodes.OnnxInvalidAttribute.Exception(location, $"{Describe(node)}: {message}.");

    /// <summary>An axis counted from the end when negative; clamped into [0, rank] when asked.</summary>
    public static long Norm(long axis, long rank, bool clamp)
    {
        var a = axis < 0 ? axis + rank : axis;
        return clamp ? Math.Clamp(a, 0, rank) : a;
    }

    public bool Has(int input) => Proto.Input.Count > input && Proto.Input[input].Length > 0;

    public Shape ShapeOf(string value) => _values.ShapeOf(value);

    public bool IsConstant(string value) => _values.Constants.ContainsKey(value);

    /// <summary>Input <paramref name="input"/> as an IR value (a constant becomes an IR initializer).</summary>
    public string Value(int input) => _values.IrValue(Proto, input);

    /// <summary>An input that must be constant (weights), as an IR initializer.</summary>
    public string Weight(int input, string what)
    {
        _ = Const(input, what);
        return Value(input);
    }

    /// <summary>An optional constant input (a bias): the IR initializer when given, nothing when not.</summary>
    public IEnumerable<string> Optional(int input) => Has(input) ? [Weight(input, $"input {input}")] : [];

    public OnnxConstant Const(int input, string? what = null)
    {
        if (!Has(input))
        {
            throw Invalid($"input {input}{(what is null ? string.Empty : $" ({what})")} is missing");
        }

        return _values.Constants.TryGetValue(Proto.Input[input], out var c)
            ? c
            : throw DiagnosticCodes.OnnxNonConstantInput.Exception(Location,
                $"{Describe(Proto)} takes its input {input}{(what is null ? string.Empty : $" ({what})")} from a computed value '{Proto.Input[input]}'; NeuralBuild needs it as a constant to know the output shape and cost.");
    }

    public long[] Ints(int input, string what)
    {
        var c = Const(input, what);
        if (!c.IsSmall)
        {
            throw Invalid($"{what} has {c.Shape.ElementCount} values");
        }

        return [.. c.Elements().Select(v => v >= long.MaxValue ? long.MaxValue : v <= long.MinValue ? long.MinValue : (long)v)];
    }

    /// <summary>A constant integer input when given, else null.</summary>
    public long[]? OptionalInts(int input, string what) => Has(input) ? Ints(input, what) : null;

    public double[] Doubles(int input, string what) => Const(input, what).Elements();

    public double Scalar(int input, string what)
    {
        var values = Doubles(input, what);
        return values.Length == 1 ? values[0] : throw Invalid($"{what} has {values.Length} values; a scalar is expected");
    }

    /// <summary>Distinct axes in [-rank, rank) made non-negative; any other is NM0209 naming <paramref name="what"/>.</summary>
    public int[] Axes(long[] axes, int rank, string what = "axes")
    {
        var result = axes.Select(a => Norm(a, rank, clamp: false)).ToArray();
        if (result.Any(a => a < 0 || a >= rank) || result.Distinct().Count() != result.Length)
        {
            throw Invalid(what == "axis"
                ? $"axis {axes[0]} is outside [-{rank}, {rank - 1}]"
                : $"{what} [{string.Join(", ", axes)}] are not distinct axes in [-{rank}, {rank - 1}]");
        }

        return [.. result.Select(a => (int)a)];
    }

    public void Emit(string opType, IEnumerable<string> inputs, Attributes attributes, bool inPlace = false) =>
        _values.Emit(Index, Proto, opType, inputs, attributes, inPlace);

    /// <summary>One node of several this node is lowered into, making output <paramref name="output"/> alone (<see cref="OnnxValueTable.EmitPart"/>).</summary>
    public void EmitPart(int output, string opType, IEnumerable<string> inputs, Attributes attributes) =>
        _values.EmitPart(Index, Proto, output, opType, inputs, attributes);

    /// <summary>An IR Activation of the first input computing <paramref name="function"/>.</summary>
    public void Activation(string function, Attributes? attributes = null) =>
        Emit("Activation", [Value(0)], (attributes ?? new Attributes()).Set("function", function));

    /// <summary>The node as an IR op context over <paramref name="shapes"/>: the ops' own shape rules report against it.</summary>
    public OpContext Context(IReadOnlyList<Shape?> shapes) =>
        new(new Node(Name, OpType, Proto.Input, Proto.Output, new LayerOrigin(0, OpType, Name, Location)), shapes);

    public NeuralException Invalid(string message) => Invalid(Location, Proto, message);

    public NeuralException OutOfRange(string message) =>
        DiagnosticCodes.AttributeOutOfRange.Exception(Location, $"{Describe(Proto)}: {message}.");

    public NeuralException Unsupported(string message) =>
        DiagnosticCodes.OnnxUnsupportedOperator.Exception(Location, $"{Describe(Proto)}: {message}.");
}
