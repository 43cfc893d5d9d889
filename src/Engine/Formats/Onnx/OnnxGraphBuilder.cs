using System.Text;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using NuGet.Versioning;
using AttributeType = NeuralBuild.Engine.Formats.Onnx.Proto.AttributeProto.Types.AttributeType;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Translates an ONNX graph into the IR. The graph is checked first (every value has exactly one
/// producer, every input is produced, no cycle), then nodes are visited in dependency order with
/// shapes inferred as they go. Nodes whose inputs are all constants (Constant, the
/// Shape → Gather → Cast → Unsqueeze → Concat chains exporters emit to compute shapes, Identity on a
/// weight) are folded to constants at read time and produce no IR node; constant inputs of IR nodes
/// become IR initializers (under the ONNX initializer's name when they alias one). Every other node
/// maps to an IR op or is refused with NM0202 naming it: there is no silent zero.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Default-domain operator set versions whose operator semantics this reader implements.</summary>
    public static VersionRange SupportedOpsets { get; } = VersionRange.Parse("[7, 18]");

    /// <summary>Default-domain operators that become IR nodes (<see cref="Map"/>); each may also fold when its inputs are constant.</summary>
    public static IReadOnlySet<string> MappedOperators { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Softplus",
        "HardSigmoid", "HardSwish", "Clip", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool",
        "GlobalMaxPool", "Gemm", "MatMul", "Flatten", "Reshape", "Transpose", "Concat", "Split", "Slice", "Pad", "Resize",
        "Upsample", "Softmax", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Cast", "ReduceMean",
    };

    /// <summary>Default-domain operators read only as constants, folded at read time (<see cref="TryFold"/>); on a computed value they are NM0202.</summary>
    public static IReadOnlySet<string> FoldedOperators { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Constant", "Shape", "Gather", "ConstantOfShape",
    };

    /// <summary>Constants larger than this are not expanded to fold arithmetic on them.</summary>
    private const long FoldLimit = 1 << 20;

    private readonly string _path;
    private readonly SourceLocation _location;
    private readonly ModelProto _proto;
    private readonly GraphProto _g;
    private readonly Shape? _inputOverride;
    private readonly Graph _graph = new();
    private readonly Dictionary<string, Shape> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Constant> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _initializerIndex = new(StringComparer.Ordinal);
    private readonly HashSet<int> _folded = [];
    private readonly Dictionary<int, IReadOnlyList<string>> _nodeInputs = [];
    private long _opset;

    private OnnxGraphBuilder(string path, ModelProto proto, Shape? inputOverride)
    {
        _path = path;
        _location = new SourceLocation(path);
        _proto = proto;
        _g = proto.Graph ?? throw DiagnosticCodes.OnnxMalformed.Exception(_location, $"'{Path.GetFileName(path)}' has no graph; it is not an ONNX model (or only its metadata was saved).");
        _inputOverride = inputOverride;
    }

    public static OnnxModel Build(string path, ModelProto proto, Shape? inputOverride, out Graph graph)
    {
        var builder = new OnnxGraphBuilder(path, proto, inputOverride);
        builder.BuildAll();
        graph = builder._graph;
        var data = graph.Initializers.ToDictionary(i => i.Key, i => i.Value.Data, StringComparer.Ordinal);
        return new OnnxModel(path, proto, builder._opset, builder._initializerIndex, builder._folded, builder._nodeInputs, data);
    }

    private void BuildAll()
    {
        CheckOpset();
        ReadInitializers();
        ReadInputs();
        foreach (var index in Schedule())
        {
            var node = _g.Node[index];
            using var scope = Checked.At(_location);
            CheckArity(node);
            if (TryFold(node))
            {
                _folded.Add(index);
            }
            else
            {
                Map(index, node);
            }
        }

        foreach (var output in _g.Output)
        {
            if (!_shapes.ContainsKey(output.Name) && !_constants.ContainsKey(output.Name))
            {
                throw DiagnosticCodes.OnnxUnknownValue.Exception(_location, $"graph output '{output.Name}' is produced by no node, initializer or graph input.");
            }

            _graph.Outputs.Add(output.Name);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Model-level checks.

    private void CheckOpset()
    {
        var defaults = _proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (defaults.Count == 0)
        {
            // IR version 1-2 models without opset_import use opset 1.
            throw DiagnosticCodes.OnnxOpsetUnsupported.Exception(_location,
                $"the model imports no default ONNX operator set (opset 1 is implied); NeuralBuild reads opsets {Range()}.");
        }

        _opset = defaults.Max(o => o.Version);
        if (!SupportedOpsets.Satisfies(new NuGetVersion((int)Math.Clamp(_opset, 0, int.MaxValue), 0, 0)))
        {
            throw DiagnosticCodes.OnnxOpsetUnsupported.Exception(_location,
                $"the model imports the default ONNX operator set at version {_opset}; NeuralBuild reads opsets {Range()}.");
        }
    }

    private static string Range() => $"[{SupportedOpsets.MinVersion!.Major}, {SupportedOpsets.MaxVersion!.Major}]";

    private void ReadInitializers()
    {
        for (var i = 0; i < _g.Initializer.Count; i++)
        {
            var proto = _g.Initializer[i];
            if (!_initializerIndex.TryAdd(proto.Name, i))
            {
                throw DiagnosticCodes.OnnxDuplicateValue.Exception(_location, $"initializer '{proto.Name}' is declared twice (entries {_initializerIndex[proto.Name]} and {i}).");
            }

            var tensor = OnnxTensor.Open(proto, proto.Name, _path);
            _constants[proto.Name] = new Constant(tensor.Shape, tensor.Type) { Tensor = tensor, Initializer = proto.Name };
        }
    }

    private void ReadInputs()
    {
        var first = true;
        foreach (var input in _g.Input)
        {
            if (_constants.ContainsKey(input.Name))
            {
                continue; // IR < 4 lists initializers among the inputs.
            }

            if (_shapes.ContainsKey(input.Name))
            {
                throw DiagnosticCodes.OnnxDuplicateValue.Exception(_location, $"graph input '{input.Name}' is declared twice.");
            }

            Shape shape;
            if (first && _inputOverride is not null)
            {
                shape = _inputOverride;
            }
            else
            {
                shape = InputShape(input);
            }

            first = false;
            _shapes[input.Name] = shape;
            _graph.Inputs[input.Name] = shape;
        }
    }

    private Shape InputShape(ValueInfoProto input)
    {
        var type = input.Type?.TensorType;
        if (type?.Shape is null)
        {
            throw DiagnosticCodes.OnnxBadGraphInput.Exception(_location, $"graph input '{input.Name}' declares no tensor shape; give the input shape (InputShape, --input 1x3x224x224).");
        }

        var dims = new long[type.Shape.Dim.Count];
        for (var i = 0; i < dims.Length; i++)
        {
            var d = type.Shape.Dim[i];
            if (d.HasDimValue && d.DimValue > 0)
            {
                dims[i] = d.DimValue;
            }
            else if (i == 0)
            {
                dims[i] = 1; // a symbolic batch: costs are per image.
            }
            else
            {
                var what = d.HasDimParam ? $"a symbolic dimension '{d.DimParam}'" : d.HasDimValue ? $"the dimension {d.DimValue}" : "an unknown dimension";
                throw DiagnosticCodes.OnnxBadGraphInput.Exception(_location,
                    $"graph input '{input.Name}' has {what} at axis {i}; give the input shape (InputShape, --input 1x3x224x224).");
            }
        }

        return new Shape(dims);
    }

    /// <summary>Dependency order of the nodes; file order where the file is already sorted.</summary>
    private List<int> Schedule()
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _g.Node.Count; i++)
        {
            foreach (var output in _g.Node[i].Output.Where(o => o.Length > 0))
            {
                if (producer.TryGetValue(output, out var other))
                {
                    throw DiagnosticCodes.OnnxDuplicateValue.Exception(_location,
                        $"{Describe(_g.Node[i])} writes '{output}', which {Describe(_g.Node[other])} already writes; ONNX graphs are single-assignment.");
                }

                if (_constants.ContainsKey(output) || _shapes.ContainsKey(output))
                {
                    throw DiagnosticCodes.OnnxDuplicateValue.Exception(_location,
                        $"{Describe(_g.Node[i])} writes '{output}', which is already an initializer or graph input; ONNX graphs are single-assignment.");
                }

                producer[output] = i;
            }
        }

        var waiting = new int[_g.Node.Count];
        var dependents = new List<int>[_g.Node.Count];
        for (var i = 0; i < _g.Node.Count; i++)
        {
            dependents[i] = [];
        }

        for (var i = 0; i < _g.Node.Count; i++)
        {
            foreach (var input in _g.Node[i].Input.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (producer.TryGetValue(input, out var from))
                {
                    waiting[i]++;
                    dependents[from].Add(i);
                }
                else if (!_constants.ContainsKey(input) && !_shapes.ContainsKey(input))
                {
                    throw DiagnosticCodes.OnnxUnknownValue.Exception(_location,
                        $"{Describe(_g.Node[i])} reads '{input}', which no node, initializer or graph input produces.");
                }
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < waiting.Length; i++)
        {
            if (waiting[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<int>(_g.Node.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(i);
            foreach (var d in dependents[i])
            {
                if (--waiting[d] == 0)
                {
                    ready.Enqueue(d, d);
                }
            }
        }

        if (order.Count < _g.Node.Count)
        {
            var stuck = Enumerable.Range(0, _g.Node.Count).Where(i => waiting[i] > 0).Take(5).Select(i => Describe(_g.Node[i]));
            throw DiagnosticCodes.OnnxCycle.Exception(_location,
                $"{string.Join(", ", stuck)} depend on each other in a cycle; an ONNX graph must be acyclic.");
        }

        return order;
    }

    private static string NameOf(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault(o => o.Length > 0) ?? node.OpType;

    private static string Describe(NodeProto node) => $"node '{NameOf(node)}' ({node.OpType})";

    /// <summary>
    /// Inputs an operator requires (leading, each named) and accepts in all, per the ONNX operator
    /// specs at the model's opset; null for operators this reader does not know (NM0202 later).
    /// </summary>
    private (int Required, int Accepted)? Arity(NodeProto node) => node.OpType switch
    {
        _ when node.Domain is not ("" or "ai.onnx") => null,
        "Constant" => (0, 0),
        "Conv" or "ConvTranspose" or "Gemm" => (2, 3),
        "BatchNormalization" => (5, 5),
        "PRelu" or "Add" or "Sub" or "Mul" or "Div" or "MatMul" or "Reshape" or "Gather" => (2, 2),
        "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Softplus" or "HardSigmoid" or "HardSwish" or "MaxPool" or "AveragePool"
            or "GlobalAveragePool" or "GlobalMaxPool" or "Flatten" or "Transpose" or "Softmax" or "Identity" or "Cast"
            or "Shape" or "ConstantOfShape" => (1, 1),
        "Concat" => (1, int.MaxValue),
        "Clip" => _opset >= 11 ? (1, 3) : (1, 1),
        "Split" => _opset >= 13 ? (1, 2) : (1, 1),
        "Slice" => _opset >= 10 ? (3, 5) : (1, 1),
        "Pad" => _opset >= 18 ? (2, 4) : _opset >= 11 ? (2, 3) : (1, 1),
        "Resize" => _opset >= 11 ? (1, 4) : (2, 2),
        "Upsample" => _opset >= 9 ? (2, 2) : (1, 1),
        "Squeeze" => _opset >= 13 ? (1, 2) : (1, 1),
        "Unsqueeze" => _opset >= 13 ? (2, 2) : (1, 1),
        "Dropout" => _opset >= 12 ? (1, 3) : (1, 1),
        "ReduceMean" => _opset >= 18 ? (1, 2) : (1, 1),
        _ => null,
    };

    /// <summary>Every required input named, no input beyond those the operator takes, a named first output: what every later step indexes.</summary>
    private void CheckArity(NodeProto node)
    {
        if (node.Output.Count == 0 || node.Output[0].Length == 0)
        {
            throw DiagnosticCodes.OnnxMissingInput.Exception(_location, $"{Describe(node)} has no (named) first output.");
        }

        if (Arity(node) is not var (required, accepted))
        {
            return;
        }

        if (node.Input.Count > accepted)
        {
            throw DiagnosticCodes.OnnxExtraInput.Exception(_location,
                $"{Describe(node)} has {node.Input.Count} inputs; {node.OpType} at opset {_opset} takes {(accepted == required ? $"{accepted}" : $"at most {accepted}")}.");
        }

        for (var i = 0; i < required; i++)
        {
            if (i >= node.Input.Count || node.Input[i].Length == 0)
            {
                throw DiagnosticCodes.OnnxMissingInput.Exception(_location,
                    $"{Describe(node)} lacks input {i}{(i < node.Input.Count ? " (its name is empty)" : string.Empty)}; {node.OpType} at opset {_opset} requires {required} input{(required == 1 ? string.Empty : "s")}, it has {node.Input.Count(n => n.Length > 0)}.");
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Constant folding.

    private sealed class Constant(Shape shape, DT type)
    {
        public Shape Shape { get; } = shape;

        public DT Type { get; } = type;

        /// <summary>Stored tensor (initializer or Constant value); null for computed constants.</summary>
        public OnnxTensor? Tensor { get; init; }

        /// <summary>The ONNX initializer this constant is (an alias through Identity keeps the name).</summary>
        public string? Initializer { get; init; }

        public double[]? Values { get; set; }

        public bool IsInteger => Type is not (DT.Float or DT.Float16 or DT.Double or DT.Bfloat16);
    }

    private double[] ValuesOf(Constant c)
    {
        if (c.Values is null)
        {
            c.Values = c.Tensor!.ToDoubles();
        }

        return c.Values;
    }

    private bool Small(Constant c) => c.Shape.ElementCount <= FoldLimit;

    private bool TryFold(NodeProto node)
    {
        var inputs = node.Input.Select(n => n.Length == 0 ? null : _constants.GetValueOrDefault(n)).ToList();
        var present = node.Input.Where(n => n.Length > 0).ToList();
        var allConstant = present.All(_constants.ContainsKey);
        if (node.Domain is not ("" or "ai.onnx"))
        {
            return false;
        }

        switch (node.OpType)
        {
            case "Constant":
                Define(node, ConstantNodeValue(node));
                return true;
            case "Shape" when present.Count == 1:
                {
                    var shape = _constants.TryGetValue(present[0], out var c) ? c.Shape : _shapes[present[0]];
                    var dims = shape.Dims.Select(d => (double)d).ToArray();
                    var start = (int)Norm(AttrInt(node, "start", 0), shape.Rank, clamp: true);
                    var end = (int)Norm(AttrInt(node, "end", shape.Rank), shape.Rank, clamp: true);
                    var values = dims[start..Math.Max(start, end)];
                    Define(node, new Constant(new Shape(values.Length), DT.Int64) { Values = values });
                    return true;
                }

            case "Identity" when allConstant:
                {
                    var c = inputs[0]!;
                    _constants[node.Output[0]] = c;
                    return true;
                }
        }

        if (!allConstant || present.Count == 0 || inputs.Any(c => c is not null && !Small(c)))
        {
            return false;
        }

        switch (node.OpType)
        {
            case "Cast":
                {
                    var c = inputs[0]!;
                    var to = CastTarget(node);
                    var values = ValuesOf(c).ToArray();
                    var result = new Constant(c.Shape, to) { Values = values };
                    if (result.IsInteger)
                    {
                        for (var i = 0; i < values.Length; i++)
                        {
                            values[i] = Math.Truncate(values[i]);
                        }
                    }

                    Define(node, result);
                    return true;
                }

            case "Gather":
                Define(node, FoldGather(node, inputs[0]!, inputs[1]!));
                return true;
            case "Unsqueeze":
            case "Squeeze":
            case "Reshape":
            case "Flatten":
                {
                    var c = inputs[0]!;
                    var shape = ReshapedShape(node, c.Shape);
                    Define(node, new Constant(shape, c.Type) { Values = ValuesOf(c) });
                    return true;
                }

            case "Concat":
                {
                    var parts = inputs.Where(c => c is not null).Select(c => c!).ToList();
                    if (parts.Any(p => p.Shape.Rank != 1))
                    {
                        return false;
                    }

                    var values = parts.SelectMany(ValuesOf).ToArray();
                    Define(node, new Constant(new Shape(values.Length), parts[0].Type) { Values = values });
                    return true;
                }

            case "Add":
            case "Sub":
            case "Mul":
            case "Div":
                {
                    if (FoldArithmetic(node, inputs[0]!, inputs[1]!) is not { } result)
                    {
                        return false;
                    }

                    Define(node, result);
                    return true;
                }

            case "Slice":
                {
                    var c = inputs[0]!;
                    if (c.Shape.Rank != 1)
                    {
                        return false;
                    }

                    var (starts, ends, axes, steps) = SliceSpec(node, 1);
                    if (axes.Length != 1 || starts.Length != 1 || ends.Length != 1 || steps.Length != 1 || steps[0] == 0 || Norm(axes[0], 1, clamp: false) != 0)
                    {
                        return false;
                    }

                    var all = ValuesOf(c);
                    var values = new List<double>();
                    var n = all.Length;
                    var length = StridedSlice.Length(n, starts[0], ends[0], steps[0]);
                    var s = starts[0] < 0 ? starts[0] + n : starts[0];
                    s = steps[0] > 0 ? Math.Clamp(s, 0, n) : Math.Clamp(s, -1, n - 1);
                    for (long k = 0; k < length; k++)
                    {
                        values.Add(all[s + (k * steps[0])]);
                    }

                    Define(node, new Constant(new Shape(values.Count), c.Type) { Values = [.. values] });
                    return true;
                }

            case "ConstantOfShape":
                {
                    var dims = ValuesOf(inputs[0]!).Select(v => (long)v).ToArray();
                    if (dims.Any(d => d < 0))
                    {
                        throw Invalid(node, $"shape [{string.Join(", ", dims)}] has a negative dimension");
                    }

                    var shape = new Shape(dims);
                    var fill = AttrTensor(node, "value") is { } t ? OnnxTensor.Open(t, NameOf(node), _path) : null;
                    if (fill is not null && fill.ElementCount != 1)
                    {
                        throw Invalid(node, $"value holds {fill.ElementCount} elements; ConstantOfShape fills with one");
                    }

                    var value = fill is null ? 0.0 : fill.ToDoubles()[0];
                    if (shape.ElementCount > FoldLimit)
                    {
                        return false;
                    }

                    Define(node, new Constant(shape, fill?.Type ?? DT.Float) { Values = [.. Enumerable.Repeat(value, (int)shape.ElementCount)] });
                    return true;
                }

            default:
                return false;
        }
    }

    private void Define(NodeProto node, Constant value)
    {
        if (node.Output.Count == 0 || node.Output[0].Length == 0)
        {
            throw DiagnosticCodes.OnnxInvalidAttribute.Exception(_location, $"{Describe(node)} has no output.");
        }

        _constants[node.Output[0]] = value;
    }

    private Constant ConstantNodeValue(NodeProto node)
    {
        if (node.Attribute.Count != 1)
        {
            throw Invalid(node, $"it has {node.Attribute.Count} attributes; a Constant holds exactly one value attribute");
        }

        var attribute = node.Attribute[0];
        _ = Attr(node, attribute.Name, attribute.Name switch
        {
            "value" => AttributeType.Tensor,
            "value_float" => AttributeType.Float,
            "value_floats" => AttributeType.Floats,
            "value_int" => AttributeType.Int,
            "value_ints" => AttributeType.Ints,
            _ => attribute.Type,
        });
        switch (attribute.Name)
        {
            case "value":
                {
                    var tensor = OnnxTensor.Open(attribute.T ?? new TensorProto(), $"{NameOf(node)}.value", _path);
                    return new Constant(tensor.Shape, tensor.Type) { Tensor = tensor };
                }

            case "value_float":
                return new Constant(new Shape(), DT.Float) { Values = [attribute.F] };
            case "value_floats":
                return new Constant(new Shape(attribute.Floats.Count), DT.Float) { Values = [.. attribute.Floats.Select(f => (double)f)] };
            case "value_int":
                return new Constant(new Shape(), DT.Int64) { Values = [attribute.I] };
            case "value_ints":
                return new Constant(new Shape(attribute.Ints.Count), DT.Int64) { Values = [.. attribute.Ints.Select(i => (double)i)] };
            default:
                throw DiagnosticCodes.OnnxInvalidAttribute.Exception(_location, $"{Describe(node)}: attribute '{attribute.Name}' is not a value NeuralBuild reads (value, value_float(s), value_int(s)).");
        }
    }

    private Constant FoldGather(NodeProto node, Constant data, Constant indices)
    {
        var axis = (int)Norm(AttrInt(node, "axis", 0), data.Shape.Rank, clamp: false);
        if (data.Shape.Rank != 1 || axis != 0)
        {
            throw DiagnosticCodes.OnnxUnsupportedOperator.Exception(_location, $"{Describe(node)}: Gather on constants is folded for 1-D data only; this one has data {data.Shape}.");
        }

        var all = ValuesOf(data);
        var picked = ValuesOf(indices).Select(i =>
        {
            var k = (long)i < 0 ? (long)i + all.Length : (long)i;
            return k >= 0 && k < all.Length ? all[k] : throw DiagnosticCodes.OnnxInvalidAttribute.Exception(_location, $"{Describe(node)}: index {i} is outside [0, {all.Length}).");
        }).ToArray();
        return new Constant(indices.Shape, data.Type) { Values = picked };
    }

    /// <summary>The element-wise result, or null when broadcasting makes it too large to fold.</summary>
    private Constant? FoldArithmetic(NodeProto node, Constant a, Constant b)
    {
        var context = Context(node, [a.Shape, b.Shape]);
        var shape = Arithmetic.Broadcast(context, a.Shape, b.Shape);
        if (shape.ElementCount > FoldLimit)
        {
            return null;
        }

        var va = ValuesOf(a);
        var vb = ValuesOf(b);
        var count = (int)shape.ElementCount;
        var result = new double[count];
        var integer = a.IsInteger;
        for (var i = 0; i < count; i++)
        {
            var x = va[Broadcasted(i, shape, a.Shape)];
            var y = vb[Broadcasted(i, shape, b.Shape)];
            result[i] = node.OpType switch
            {
                "Add" => x + y,
                "Sub" => x - y,
                "Mul" => x * y,
                _ when integer => y == 0
                    ? throw DiagnosticCodes.OnnxInvalidAttribute.Exception(_location, $"{Describe(node)} divides by zero.")
                    : Math.Truncate(x / y),
                _ => x / y,
            };
        }

        return new Constant(shape, a.Type) { Values = result };
    }

    private static int Broadcasted(int flat, Shape output, Shape input)
    {
        var index = 0;
        var stride = 1;
        var rest = flat;
        for (var axis = output.Rank - 1; axis >= 0; axis--)
        {
            var coordinate = (int)(rest % output[axis]);
            rest /= (int)output[axis];
            var inputAxis = axis - (output.Rank - input.Rank);
            if (inputAxis >= 0)
            {
                var size = (int)input[inputAxis];
                index += (size == 1 ? 0 : coordinate) * stride;
                stride *= size;
            }
        }

        return index;
    }

    // ---------------------------------------------------------------------------------------
    // Mapping nodes to IR ops.

    private void Map(int index, NodeProto node)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            throw Unsupported(node, $"operator {node.OpType} of domain '{node.Domain}' is not supported");
        }

        var x = node.Input.Count > 0 ? node.Input[0] : string.Empty;
        switch (node.OpType)
        {
            case "Conv":
                Emit(index, node, "Conv", [x, Weight(node, 1, "W"), .. Optional(node, 2)], ConvAttributes(node, isPool: false));
                break;
            case "ConvTranspose":
                Emit(index, node, "ConvTranspose", [x, Weight(node, 1, "W"), .. Optional(node, 2)], ConvTransposeAttributes(node));
                break;
            case "BatchNormalization":
                if (node.Output.Skip(1).Any(o => o.Length > 0) || AttrFlag(node, "training_mode", 0) != 0)
                {
                    throw Invalid(node, "training mode (batch statistics, running mean / variance outputs) is not supported; export the model in eval mode");
                }

                if (AttrFlag(node, "spatial", 1) == 0)
                {
                    throw Invalid(node, "spatial=0 (statistics per element rather than per channel) is not supported");
                }

                Emit(index, node, "BatchNormalization", [x, Weight(node, 1, "scale"), Weight(node, 2, "B"), Weight(node, 3, "mean"), Weight(node, 4, "var")],
                    new Attributes().Set("epsilon", (double)AttrFloat(node, "epsilon", 1e-5f)));
                break;
            case "Relu":
                Activation(index, node, "relu");
                break;
            case "LeakyRelu":
                Activation(index, node, "leaky", new Attributes().Set("alpha", (double)AttrFloat(node, "alpha", 0.01f)));
                break;
            case "PRelu":
                Emit(index, node, "Activation", [x, Weight(node, 1, "slope")], new Attributes().Set("function", "prelu"));
                break;

            case "Sigmoid":
                Activation(index, node, "sigmoid");
                break;
            case "Tanh":
                Activation(index, node, "tanh");
                break;
            case "Softplus":
                Activation(index, node, "softplus");
                break;
            case "HardSigmoid":
                Activation(index, node, "hardsigmoid", new Attributes().Set("alpha", (double)AttrFloat(node, "alpha", 0.2f)).Set("beta", (double)AttrFloat(node, "beta", 0.5f)));
                break;
            case "HardSwish":
                Activation(index, node, "hardswish");
                break;
            case "Clip":
                Clip(index, node);
                break;
            case "Add":
            case "Sub":
            case "Mul":
            case "Div":
                Emit(index, node, "Arithmetic", [Value(node, 0), Value(node, 1)], new Attributes().Set("operation", node.OpType.ToLowerInvariant()));
                break;
            case "MaxPool":
            case "AveragePool":
                if (node.Output.Skip(1).Any(o => o.Length > 0))
                {
                    throw Invalid(node, "the Indices output is not supported");
                }

                Emit(index, node, node.OpType, [x], PoolAttributes(node));
                break;
            case "GlobalAveragePool":
            case "GlobalMaxPool":
                Emit(index, node, node.OpType, [x], new Attributes());
                break;
            case "Gemm":
                Gemm(index, node);
                break;
            case "MatMul":
                Emit(index, node, "MatMul", [Value(node, 0), Value(node, 1)], new Attributes());
                break;
            case "Flatten":
                Flatten(index, node);
                break;
            case "Reshape":
                {
                    var shape = Ints(node, 1, "shape");
                    if (AttrFlag(node, "allowzero", 0) != 0 && shape.Contains(0))
                    {
                        throw Invalid(node, "allowzero=1 with a 0 in the shape (an empty tensor) is not supported");
                    }

                    Emit(index, node, "Reshape", [x], new Attributes().Set("shape", shape));
                    break;
                }

            case "Transpose":
                {
                    var rank = ShapeOf(x).Rank;
                    var perm = AttrInts(node, "perm") ?? [.. Enumerable.Range(0, rank).Reverse().Select(i => (long)i)];
                    if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
                    {
                        throw Invalid(node, $"perm [{string.Join(", ", perm)}] is not a permutation of the {rank} axes of {ShapeOf(x)}");
                    }

                    Emit(index, node, "Permute", [x], new Attributes().Set("order", perm));
                    break;
                }

            case "Concat":
                {
                    var inputs = Enumerable.Range(0, node.Input.Count).Where(i => node.Input[i].Length > 0).Select(i => Value(node, i)).ToList();
                    var rank = ShapeOf(inputs[0]).Rank;
                    Emit(index, node, "Concat", inputs, new Attributes().Set("axis", Norm(AttrInt(node, "axis", 1), rank, clamp: false)));
                    break;
                }

            case "Split":
                Split(index, node);
                break;
            case "Slice":
                {
                    var (starts, ends, axes, steps) = SliceSpec(node, 1);
                    var rank = ShapeOf(x).Rank;
                    if (axes.Select(a => Norm(a, rank, clamp: false)).Distinct().Count() != axes.Length)
                    {
                        throw Invalid(node, $"axes [{string.Join(", ", axes)}] name an axis twice");
                    }

                    Emit(index, node, "StridedSlice", [x], new Attributes().Set("starts", starts).Set("ends", ends).Set("axes", axes).Set("steps", steps));
                    break;
                }

            case "Pad":
                Pad(index, node);
                break;
            case "Resize":
            case "Upsample":
                Resize(index, node);
                break;
            case "Softmax":
                {
                    // Before opset 13 Softmax flattens the axes from `axis` on into one and normalises over them all.
                    var attributes = new Attributes().Set("axis", AttrInt(node, "axis", _opset >= 13 ? -1 : 1));
                    if (_opset < 13)
                    {
                        attributes.Set("coerce_2d", 1L);
                    }

                    Emit(index, node, "Softmax", [x], attributes);
                    break;
                }

            case "Squeeze":
            case "Unsqueeze":
                Emit(index, node, "Reshape", [x], new Attributes().Set("shape", ReshapedShape(node, ShapeOf(x)).Dims.ToArray()));
                break;
            case "Identity":
            case "Dropout":
            case "Cast":
                PassThrough(index, node);
                break;
            case "ReduceMean":
                {
                    var attributes = new Attributes().Set("keepdims", AttrFlag(node, "keepdims", 1));
                    var axes = AttrInts(node, "axes") ?? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Ints(node, 1, "axes") : null);
                    if (axes is { Length: 0 } && AttrFlag(node, "noop_with_empty_axes", 0) != 0)
                    {
                        // Opset 18: no axes with noop_with_empty_axes=1 leaves the input as it is.
                        Emit(index, node, "Identity", [x], new Attributes(), inPlace: true);
                        break;
                    }

                    if (axes is { Length: > 0 })
                    {
                        attributes.Set("axes", axes);
                    }

                    Emit(index, node, "ReduceMean", [x], attributes);
                    break;
                }

            default:
                throw Unsupported(node, $"operator {node.OpType} is not supported; its cost would be unknown, so the model is refused rather than reported with a zero");
        }
    }

    /// <summary>
    /// Identity, Dropout (inference: its input) and Cast between float types, which the float32 IR
    /// holds unchanged. Anything these would compute differently is refused: Dropout in training
    /// mode, a mask output, a Cast to an integer, boolean or 16-bit float type (which rounds).
    /// </summary>
    private void PassThrough(int index, NodeProto node)
    {
        if (node.Output.Skip(1).Any(o => o.Length > 0))
        {
            throw Invalid(node, "the mask output is not supported");
        }

        if (node.OpType == "Dropout" && node.Input.Count > 2 && node.Input[2].Length > 0 && Doubles(node, 2, "training_mode").Any(v => v != 0))
        {
            throw Invalid(node, "training_mode=true (random dropout) is not supported; export the model in eval mode");
        }

        if (node.OpType == "Cast")
        {
            var to = CastTarget(node);
            if (to is not (DT.Float or DT.Double))
            {
                throw Invalid(node, $"a Cast of a computed value to {to} is not supported; NeuralBuild computes in float32, where only casts to FLOAT and DOUBLE leave the values unchanged");
            }
        }

        // A Cast keeps its target type: in the file it changes the element type (to DOUBLE, or to
        // FLOAT from another type), so RemoveDropout leaves it where the writer must keep it.
        var attributes = node.OpType == "Cast" ? new Attributes().Set("to", (long)CastTarget(node)) : new Attributes();
        Emit(index, node, node.OpType == "Dropout" ? "Dropout" : "Identity", [Value(node, 0)], attributes, inPlace: true);
    }

    /// <summary>Cast's required <c>to</c>: a numeric element type NeuralBuild reads.</summary>
    private DT CastTarget(NodeProto node)
    {
        var to = Attr(node, "to", AttributeType.Int) ?? throw Invalid(node, "attribute 'to' is missing");
        return Enum.IsDefined((DT)to.I) && OnnxTensor.ElementSizeOf((DT)to.I) is not null
            ? (DT)to.I
            : throw Invalid(node, $"'to' = {to.I} is not a numeric ONNX element type");
    }

    private void Activation(int index, NodeProto node, string function, Attributes? attributes = null) =>
        Emit(index, node, "Activation", [Value(node, 0)], (attributes ?? new Attributes()).Set("function", function));

    private void Clip(int index, NodeProto node)
    {
        double min, max;
        if (_opset >= 11)
        {
            min = node.Input.Count > 1 && node.Input[1].Length > 0 ? Scalar(node, 1, "min") : double.NegativeInfinity;
            max = node.Input.Count > 2 && node.Input[2].Length > 0 ? Scalar(node, 2, "max") : double.PositiveInfinity;
        }
        else
        {
            min = AttrFloat(node, "min", float.MinValue);
            max = AttrFloat(node, "max", float.MaxValue);
        }

        if (min == 0 && max == 6)
        {
            Activation(index, node, "relu6");
        }
        else if (min == 0 && (double.IsPositiveInfinity(max) || max >= float.MaxValue))
        {
            Activation(index, node, "relu");
        }
        else
        {
            Activation(index, node, "clip", new Attributes().Set("min", min).Set("max", max));
        }
    }

    private void Gemm(int index, NodeProto node)
    {
        if (AttrFlag(node, "transA", 0) != 0)
        {
            throw Invalid(node, "transA=1 is not supported");
        }

        var a = Value(node, 0);
        if (ShapeOf(a).Rank != 2)
        {
            throw Invalid(node, $"input A is {ShapeOf(a)}; Gemm takes a matrix");
        }

        var attributes = new Attributes()
            .Set("transpose", AttrFlag(node, "transB", 0) != 0 ? 0L : 1L)
            .Set("output_rank", 2L)
            .Set("alpha", (double)AttrFloat(node, "alpha", 1f))
            .Set("beta", (double)AttrFloat(node, "beta", 1f));
        Emit(index, node, "FullyConnected", [a, Weight(node, 1, "B"), .. Optional(node, 2)], attributes);
    }

    private void Flatten(int index, NodeProto node)
    {
        var x = Value(node, 0);
        var shape = ShapeOf(x);
        var axis = Norm(AttrInt(node, "axis", 1), shape.Rank, clamp: false);
        if (axis == 1 && shape.Rank >= 2)
        {
            Emit(index, node, "Flatten", [x], new Attributes().Set("axis", 1L).Set("end_axis", -1L));
            return;
        }

        Emit(index, node, "Reshape", [x], new Attributes().Set("shape", ReshapedShape(node, shape).Dims.ToArray()));
    }

    private void Split(int index, NodeProto node)
    {
        var x = Value(node, 0);
        var shape = ShapeOf(x);
        var axis = Axes(node, [AttrInt(node, "axis", 0)], shape.Rank, "axis")[0];
        var outputs = node.Output.Count;
        if (node.Output.Any(o => o.Length == 0))
        {
            throw Invalid(node, "an unnamed (omitted) output is not supported; name every piece");
        }

        var sizes = AttrInts(node, "split") ?? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Ints(node, 1, "split") : null);
        var attributes = new Attributes().Set("axis", axis);
        if (sizes is not null)
        {
            if (sizes.Length != outputs || sizes.Any(size => size < 0 || size > shape[axis]) || sizes.Aggregate(0L, Checked.Add) != shape[axis])
            {
                throw Invalid(node, $"split sizes [{string.Join(", ", sizes)}] do not cut axis {axis} of {shape} into {outputs} outputs");
            }

            var points = new long[outputs - 1];
            long at = 0;
            for (var i = 0; i < points.Length; i++)
            {
                at += sizes[i];
                points[i] = at;
            }

            attributes.Set("slice_points", points);
        }
        else if (outputs > 1 && shape[axis] % outputs != 0)
        {
            // Opset 18 num_outputs: the last chunk is smaller.
            var chunk = (shape[axis] + outputs - 1) / outputs;
            attributes.Set("slice_points", Enumerable.Range(1, outputs - 1).Select(i => i * chunk).ToArray());
        }

        if (outputs == 1)
        {
            Emit(index, node, "Identity", [x], new Attributes(), inPlace: true);
            return;
        }

        Emit(index, node, "Slice", [x], attributes);
    }

    private void Pad(int index, NodeProto node)
    {
        var x = Value(node, 0);
        var rank = ShapeOf(x).Rank;
        var mode = AttrString(node, "mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge"))
        {
            throw Invalid(node, $"mode '{mode}' is not one of constant, reflect, edge");
        }

        var pads = _opset >= 11 ? Ints(node, 1, "pads") : AttrInts(node, "pads") ?? throw Invalid(node, "pads are missing");
        double value = AttrFloat(node, "value", 0f);
        if (_opset >= 11 && node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            value = Scalar(node, 2, "constant_value");
        }

        if (node.Input.Count > 3 && node.Input[3].Length > 0)
        {
            // Opset 18: pads for the listed axes only; the others are not padded.
            var axes = Ints(node, 3, "axes").Select(a => Norm(a, rank, clamp: false)).ToArray();
            if (pads.Length != 2 * axes.Length || axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length)
            {
                throw Invalid(node, $"axes [{string.Join(", ", axes)}] with pads [{string.Join(", ", pads)}] do not name distinct axes of {ShapeOf(x)} with a begin and an end each");
            }

            var full = new long[2 * rank];
            for (var i = 0; i < axes.Length; i++)
            {
                full[axes[i]] = pads[i];
                full[axes[i] + rank] = pads[i + axes.Length];
            }

            pads = full;
        }

        if (pads.Any(p => p < 0))
        {
            throw Invalid(node, $"negative pads [{string.Join(", ", pads)}] (cropping) are not supported");
        }

        if (mode == "reflect" && pads.Length == 2 * rank && Enumerable.Range(0, rank).Any(i => (pads[i] > 0 || pads[i + rank] > 0) && ShapeOf(x)[i] < 2))
        {
            throw Invalid(node, $"reflect padding of an axis of length 1 in {ShapeOf(x)} has nothing to reflect");
        }

        Emit(index, node, "Pad", [x], new Attributes().Set("pads", pads).Set("mode", mode).Set("value", value));
    }

    /// <summary>
    /// Resize (and Upsample) with the semantics of the model's opset made explicit: Upsample (opsets 7
    /// to 9) and Resize-10 have no coordinate attributes, and their nearest mode takes the input at
    /// <c>floor(o / scale)</c>, linear interpolates at <c>o / scale</c> (ONNX's test data for them:
    /// "asymmetric" with nearest_mode "floor"); from opset 11 the attributes say it. Combinations whose
    /// result the executor would not reproduce exactly are refused here.
    /// </summary>
    private void Resize(int index, NodeProto node)
    {
        var x = Value(node, 0);
        var rank = ShapeOf(x).Rank;
        var mode = AttrString(node, "mode", "nearest");
        var legacy = node.OpType == "Upsample" || _opset < 11;
        if (mode is not ("nearest" or "linear") && !(mode == "cubic" && !legacy))
        {
            throw Invalid(node, $"mode '{mode}' is not one of nearest, linear{(legacy ? string.Empty : ", cubic")}");
        }

        var attributes = new Attributes().Set("mode", mode);
        string transform;
        if (legacy)
        {
            transform = "asymmetric";
            attributes.Set("coordinate_transformation_mode", transform).Set("nearest_mode", "floor");
        }
        else
        {
            transform = AttrString(node, "coordinate_transformation_mode", "half_pixel");
            if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
            {
                throw Invalid(node, $"coordinate_transformation_mode '{transform}' is not supported");
            }

            var nearest = AttrString(node, "nearest_mode", "round_prefer_floor");
            if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
            {
                throw Invalid(node, $"nearest_mode '{nearest}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil");
            }

            if (AttrFlag(node, "antialias", 0) != 0)
            {
                throw Invalid(node, "antialias=1 is not supported");
            }

            if (AttrString(node, "keep_aspect_ratio_policy", "stretch") != "stretch")
            {
                throw Invalid(node, $"keep_aspect_ratio_policy '{AttrString(node, "keep_aspect_ratio_policy", "stretch")}' is not supported");
            }

            attributes.Set("coordinate_transformation_mode", transform)
                .Set("nearest_mode", nearest)
                .Set("cubic_coeff_a", (double)AttrFloat(node, "cubic_coeff_a", -0.75f))
                .Set("exclude_outside", AttrFlag(node, "exclude_outside", 0))
                .Set("extrapolation_value", (double)AttrFloat(node, "extrapolation_value", 0f));
        }

        // Opset 18 `axes`: scales, sizes and roi name only those axes.
        var axes = AttrInts(node, "axes")?.Select(a => Norm(a, rank, clamp: false)).ToArray();
        if (axes is not null && (axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length))
        {
            throw Invalid(node, $"axes [{string.Join(", ", axes)}] are not distinct axes of {ShapeOf(x)}");
        }

        double[]? scales = null;
        long[]? sizes = null;
        if (node.OpType == "Upsample" && _opset < 9)
        {
            scales = AttrFloats(node, "scales") ?? throw Invalid(node, "scales are missing");
        }
        else
        {
            var scalesInput = node.OpType == "Upsample" || _opset < 11 ? 1 : 2;
            if (node.Input.Count > scalesInput && node.Input[scalesInput].Length > 0 && Const(node, scalesInput).Shape.ElementCount > 0)
            {
                scales = Doubles(node, scalesInput, "scales");
            }
            else if (node.Input.Count > 3 && node.Input[3].Length > 0)
            {
                sizes = Ints(node, 3, "sizes");
            }
            else
            {
                throw Invalid(node, "neither scales nor sizes are given");
            }
        }

        if (axes is not null)
        {
            var given = scales?.Length ?? sizes!.Length;
            if (given != axes.Length)
            {
                throw Invalid(node, $"{given} scales or sizes for the {axes.Length} axes [{string.Join(", ", axes)}]");
            }

            if (scales is not null)
            {
                var full = Enumerable.Repeat(1.0, rank).ToArray();
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = scales[i];
                }

                scales = full;
            }
            else
            {
                var full = ShapeOf(x).Dims.ToArray();
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = sizes![i];
                }

                sizes = full;
            }
        }

        if (scales is not null && scales.Any(v => !(v > 0) || double.IsInfinity(v)))
        {
            throw Invalid(node, $"scales [{string.Join(", ", scales)}] must be positive numbers");
        }

        if (legacy && mode == "nearest" && scales is not null && scales.Any(v => v < 1))
        {
            // ONNX gives no rule for these; ONNX Runtime rounds up when downsampling, the reference does not.
            throw Invalid(node, $"{node.OpType} in nearest mode with scales below 1 ([{string.Join(", ", scales)}]) is not supported: opset {_opset} leaves its rounding unspecified");
        }

        if (transform == "tf_crop_and_resize")
        {
            if (sizes is null)
            {
                // The output size of tf_crop_and_resize with scales differs between ONNX's text (roi-scaled) and its reference.
                throw Invalid(node, "tf_crop_and_resize with scales is not supported; give sizes");
            }

            var roi = Doubles(node, 1, "roi");
            var count = axes?.Length ?? rank;
            if (roi.Length != 2 * count)
            {
                throw Invalid(node, $"roi has {roi.Length} values; {2 * count} (a start and an end per axis) are needed");
            }

            if (axes is not null)
            {
                var full = Enumerable.Repeat(0.0, rank).Concat(Enumerable.Repeat(1.0, rank)).ToArray();
                for (var i = 0; i < axes.Length; i++)
                {
                    full[axes[i]] = roi[i];
                    full[axes[i] + rank] = roi[i + axes.Length];
                }

                roi = full;
            }

            attributes.Set("roi", roi);
        }

        if (scales is not null)
        {
            attributes.Set("scales", scales);
        }
        else
        {
            attributes.Set("sizes", sizes!);
        }

        Emit(index, node, "Resize", [x], attributes);
    }

    private Attributes ConvAttributes(NodeProto node, bool isPool)
    {
        var x = ShapeOf(Value(node, 0));
        long[] kernel;
        if (isPool)
        {
            kernel = AttrInts(node, "kernel_shape") ?? throw Invalid(node, "kernel_shape is missing");
        }
        else
        {
            var w = ShapeOf(Weight(node, 1, "W"));
            kernel = AttrInts(node, "kernel_shape") ?? [.. w.Dims.Skip(2)];
        }

        if (x.Rank != 4 || kernel.Length != 2)
        {
            throw Invalid(node, $"only 2-D windows over N x C x H x W inputs are supported; input {x}, kernel [{string.Join(", ", kernel)}]");
        }

        var strides = AttrInts(node, "strides") ?? [1, 1];
        var dilations = AttrInts(node, "dilations") ?? [1, 1];
        if (strides.Length != 2 || dilations.Length != 2)
        {
            throw Invalid(node, $"strides [{string.Join(", ", strides)}] and dilations [{string.Join(", ", dilations)}] must be two numbers each");
        }

        if (strides.Concat(dilations).Concat(kernel).Any(v => v <= 0 || v > ModelLimits.MaxExtent))
        {
            // Checked before auto_pad divides by the strides; the same range as the ops' own check.
            throw OutOfRange(node, $"kernel [{string.Join(", ", kernel)}], strides [{string.Join(", ", strides)}] and dilations [{string.Join(", ", dilations)}] must lie in [1, {ModelLimits.MaxExtent}]");
        }

        var pads = AutoPads(node, [x.H, x.W], kernel, strides, dilations);
        var attributes = new Attributes().Set("kernel_shape", kernel).Set("strides", strides).Set("pads", pads).Set("dilations", dilations);
        if (!isPool)
        {
            attributes.Set("group", AttrInt(node, "group", 1));
        }

        return attributes;
    }

    /// <summary>
    /// Pads (begin…end) after auto_pad: NOTSET uses <c>pads</c>; VALID none; SAME_UPPER / SAME_LOWER pad
    /// so that <c>out = ceil(in / stride)</c>, the odd pixel at the end (UPPER) or the beginning (LOWER).
    /// </summary>
    private long[] AutoPads(NodeProto node, long[] input, long[] kernel, long[] strides, long[] dilations)
    {
        var autoPad = AttrString(node, "auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET":
                {
                    var pads = AttrInts(node, "pads") ?? [0, 0, 0, 0];
                    return pads.Length == 4
                        ? pads
                        : throw Invalid(node, $"pads [{string.Join(", ", pads)}] must be four numbers (top, left, bottom, right)");
                }

            case "VALID":
                return [0, 0, 0, 0];
            case "SAME_UPPER":
            case "SAME_LOWER":
                {
                    var begin = new long[2];
                    var end = new long[2];
                    for (var i = 0; i < 2; i++)
                    {
                        var output = (input[i] + strides[i] - 1) / strides[i];
                        var total = Math.Max(0, ((output - 1) * strides[i]) + (dilations[i] * (kernel[i] - 1)) + 1 - input[i]);
                        begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
                        end[i] = total - begin[i];
                    }

                    return [begin[0], begin[1], end[0], end[1]];
                }

            default:
                throw Invalid(node, $"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
    }

    private Attributes ConvTransposeAttributes(NodeProto node)
    {
        if (AttrString(node, "auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
        {
            throw Invalid(node, "auto_pad SAME_* is not supported for ConvTranspose; export with explicit pads");
        }

        if ((AttrInts(node, "output_padding") ?? []).Any(p => p != 0) || AttrInts(node, "output_shape") is not null)
        {
            throw Invalid(node, "output_padding and output_shape are not supported");
        }

        return ConvAttributes(node, isPool: false);
    }

    private Attributes PoolAttributes(NodeProto node)
    {
        var attributes = ConvAttributes(node, isPool: true);
        if (AttrFlag(node, "ceil_mode", 0) != 0)
        {
            attributes.Set("rounding", "ceil");
        }

        if (node.OpType == "AveragePool")
        {
            var includePad = AttrFlag(node, "count_include_pad", 0);
            attributes.Set("count_include_pad", includePad);
            if (includePad != 0 && AttrFlag(node, "ceil_mode", 0) != 0 && ExtraCeilWindow(node, attributes))
            {
                // The window ceil_mode adds reaches past the end padding; whether the part beyond it
                // counts in the divisor differs between ONNX's reference, ONNX Runtime and PyTorch.
                throw Invalid(node, "ceil_mode=1 with count_include_pad=1, where a window reaches past the end padding, is not supported (implementations disagree on its divisor)");
            }
        }

        return attributes;
    }

    /// <summary>True when ceil_mode gives a pooled axis one more window than floor, i.e. a window that ends past the end padding.</summary>
    private bool ExtraCeilWindow(NodeProto node, Attributes attributes)
    {
        var x = ShapeOf(node.Input[0]);
        var k = attributes.Ints("kernel_shape");
        var s = attributes.Ints("strides");
        var p = attributes.Ints("pads");
        var d = attributes.Ints("dilations");
        for (var i = 0; i < 2; i++)
        {
            var input = x[2 + i];
            var span = input + p[i] + p[i + 2] - (d[i] * (k[i] - 1)) - 1;
            var floor = span >= 0 ? (span / s[i]) + 1 : 0;
            if (Pooling.Ceil(input, k[i], s[i], p[i], p[i + 2], d[i]) > floor)
            {
                return true;
            }
        }

        return false;
    }

    private Shape ReshapedShape(NodeProto node, Shape input)
    {
        var dims = input.Dims.ToList();
        switch (node.OpType)
        {
            case "Unsqueeze":
                {
                    var given = AttrInts(node, "axes") ?? Ints(node, 1, "axes");
                    foreach (var axis in Axes(node, given, dims.Count + given.Length).Order())
                    {
                        dims.Insert(axis, 1);
                    }

                    return new Shape([.. dims]);
                }

            case "Squeeze":
                {
                    var axes = AttrInts(node, "axes") ?? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Ints(node, 1, "axes") : null);
                    var remove = axes is null
                        ? Enumerable.Range(0, dims.Count).Where(i => dims[i] == 1).ToHashSet()
                        : Axes(node, axes, dims.Count).ToHashSet();
                    if (remove.Any(i => dims[i] != 1))
                    {
                        throw Invalid(node, $"cannot squeeze axes of {input} whose size is not 1");
                    }

                    return new Shape([.. dims.Where((_, i) => !remove.Contains(i))]);
                }

            case "Flatten":
                {
                    // axis in [-r, r]; a negative one counts from the end, so -1 keeps the last axis apart.
                    var axis = (int)Norm(AttrInt(node, "axis", 1), dims.Count, clamp: false);
                    if (axis < 0 || axis > dims.Count)
                    {
                        throw Invalid(node, $"axis {AttrInt(node, "axis", 1)} is outside [-{dims.Count}, {dims.Count}] for {input}");
                    }

                    return new Shape(Checked.Product(dims.Take(axis).ToArray()), Checked.Product(dims.Skip(axis).ToArray()));
                }

            default:
                {
                    // Reshape of a constant (rare): 0 copies, -1 infers, by the rule of the IR's Reshape.
                    var reshape = new Node(NameOf(node), "Reshape", [node.Input[0]], [node.Output[0]],
                        new LayerOrigin(0, node.OpType, NameOf(node), _location), new Attributes().Set("shape", Ints(node, 1, "shape")));
                    return OpRegistry.Get(reshape).InferShapes(new OpContext(reshape, [input]))[0];
                }
        }
    }

    private (long[] Starts, long[] Ends, long[] Axes, long[] Steps) SliceSpec(NodeProto node, int first)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (_opset < 10)
        {
            starts = AttrInts(node, "starts") ?? throw Invalid(node, "starts are missing");
            ends = AttrInts(node, "ends") ?? throw Invalid(node, "ends are missing");
            axes = AttrInts(node, "axes");
        }
        else
        {
            starts = Ints(node, first, "starts");
            ends = Ints(node, first + 1, "ends");
            axes = node.Input.Count > first + 2 && node.Input[first + 2].Length > 0 ? Ints(node, first + 2, "axes") : null;
            steps = node.Input.Count > first + 3 && node.Input[first + 3].Length > 0 ? Ints(node, first + 3, "steps") : null;
        }

        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        return (starts, ends, axes, steps);
    }

    /// <summary>Adds the IR node and infers its output shapes (later folds need them).</summary>
    private void Emit(int index, NodeProto source, string opType, IEnumerable<string> inputs, Attributes attributes, bool inPlace = false)
    {
        var name = NameOf(source);
        var outputs = source.Output.Where(o => o.Length > 0).ToList();
        var origin = new LayerOrigin(index, source.OpType, name, _location);
        var node = new Node(name, opType, inputs, outputs, origin, attributes) { InPlace = inPlace };
        var shapes = node.Inputs.Select(i => i.Length == 0 ? null : ShapeOf(i)).ToList();
        var result = OpRegistry.Get(node).InferShapes(new OpContext(node, shapes));
        if (result.Length < outputs.Count)
        {
            throw Invalid(source, $"it has {outputs.Count} outputs; NeuralBuild models {result.Length}");
        }

        for (var i = 0; i < outputs.Count; i++)
        {
            _shapes[outputs[i]] = result[i];
        }

        _graph.Nodes.Add(node);
        _nodeInputs[index] = [.. node.Inputs];
    }

    private OpContext Context(NodeProto source, IReadOnlyList<Shape?> shapes) =>
        new(new Node(NameOf(source), source.OpType, source.Input, source.Output, new LayerOrigin(0, source.OpType, NameOf(source), _location)), shapes);

    private Shape ShapeOf(string value) =>
        _shapes.TryGetValue(value, out var shape) ? shape
        : _constants.TryGetValue(value, out var c) ? c.Shape
        : throw DiagnosticCodes.OnnxUnknownValue.Exception(_location, $"value '{value}' is produced by no node, initializer or graph input.");

    /// <summary>A node input as an IR value: a computed value as is, a constant as an IR initializer.</summary>
    private string Value(NodeProto node, int input)
    {
        var name = node.Input[input];
        if (!_constants.TryGetValue(name, out var c))
        {
            return name;
        }

        if (c.IsInteger)
        {
            // The IR computes in floating point; the operators mapped here take float tensors (type T).
            throw DiagnosticCodes.OnnxTypeMismatch.Exception(_location,
                $"{Describe(node)} takes input {input} '{name}' of element type {c.Type.ToString().ToUpperInvariant()}; {node.OpType} computes on floating-point tensors (FLOAT, FLOAT16, DOUBLE).");
        }

        var irName = c.Initializer ?? name;
        if (!_graph.Initializers.ContainsKey(irName))
        {
            TensorData data = c.Tensor is not null ? c.Tensor.FloatData() : new ArrayData([.. ValuesOf(c).Select(v => (float)v)]);
            _graph.Initializers[irName] = new Initializer(irName, c.Shape, data, DataOf(c.Type));
            _shapes.TryAdd(irName, c.Shape);
        }

        return irName;
    }

    private static Ir.DataType DataOf(DT type) => type switch
    {
        DT.Float16 => Ir.DataType.Float16,
        DT.Int64 => Ir.DataType.Int64,
        DT.Int32 => Ir.DataType.Int32,
        DT.Uint8 or DT.Bool => Ir.DataType.UInt8,
        _ => Ir.DataType.Float32,
    };

    /// <summary>An input that must be constant (weights), as an IR initializer.</summary>
    private string Weight(NodeProto node, int input, string what)
    {
        _ = Const(node, input, what);
        return Value(node, input);
    }

    private IEnumerable<string> Optional(NodeProto node, int input) =>
        node.Input.Count > input && node.Input[input].Length > 0 ? [Weight(node, input, $"input {input}")] : [];

    private Constant Const(NodeProto node, int input, string? what = null)
    {
        if (node.Input.Count <= input || node.Input[input].Length == 0)
        {
            throw Invalid(node, $"input {input}{(what is null ? string.Empty : $" ({what})")} is missing");
        }

        return _constants.TryGetValue(node.Input[input], out var c)
            ? c
            : throw DiagnosticCodes.OnnxNonConstantInput.Exception(_location,
                $"{Describe(node)} takes its input {input}{(what is null ? string.Empty : $" ({what})")} from a computed value '{node.Input[input]}'; NeuralBuild needs it as a constant to know the output shape and cost.");
    }

    private long[] Ints(NodeProto node, int input, string what)
    {
        var c = Const(node, input, what);
        if (!Small(c))
        {
            throw Invalid(node, $"{what} has {c.Shape.ElementCount} values");
        }

        return [.. ValuesOf(c).Select(v => v >= long.MaxValue ? long.MaxValue : v <= long.MinValue ? long.MinValue : (long)v)];
    }

    private double[] Doubles(NodeProto node, int input, string what) => ValuesOf(Const(node, input, what));

    private double Scalar(NodeProto node, int input, string what)
    {
        var values = Doubles(node, input, what);
        return values.Length == 1 ? values[0] : throw Invalid(node, $"{what} has {values.Length} values; a scalar is expected");
    }

    /// <summary>Distinct axes in [-rank, rank) made non-negative; any other is NM0209 naming <paramref name="what"/>.</summary>
    private int[] Axes(NodeProto node, long[] axes, int rank, string what = "axes")
    {
        var result = axes.Select(a => Norm(a, rank, clamp: false)).ToArray();
        if (result.Any(a => a < 0 || a >= rank) || result.Distinct().Count() != result.Length)
        {
            throw Invalid(node, what == "axis"
                ? $"axis {axes[0]} is outside [-{rank}, {rank - 1}]"
                : $"{what} [{string.Join(", ", axes)}] are not distinct axes in [-{rank}, {rank - 1}]");
        }

        return [.. result.Select(a => (int)a)];
    }

    private static long Norm(long axis, long rank, bool clamp)
    {
        var a = axis < 0 ? axis + rank : axis;
        return clamp ? Math.Clamp(a, 0, rank) : a;
    }

    // ---------------------------------------------------------------------------------------
    // Attributes.

    /// <summary>
    /// The attribute <paramref name="name"/> of <paramref name="node"/>, refused (NM0209) when it is
    /// given twice or declares another type than <paramref name="type"/> (an INT read from a FLOAT
    /// attribute would be a silent 0). Files from before typed attributes (UNDEFINED) are read by field.
    /// </summary>
    private AttributeProto? Attr(NodeProto node, string name, AttributeType type)
    {
        AttributeProto? found = null;
        foreach (var a in node.Attribute)
        {
            if (a.Name != name)
            {
                continue;
            }

            if (found is not null)
            {
                throw Invalid(node, $"attribute '{name}' is given twice");
            }

            if (a.Type != type && a.Type != AttributeType.Undefined)
            {
                throw Invalid(node, $"attribute '{name}' is of type {a.Type.ToString().ToUpperInvariant()}; {node.OpType} takes it as {type.ToString().ToUpperInvariant()}");
            }

            found = a;
        }

        return found;
    }

    private long AttrInt(NodeProto node, string name, long fallback) => Attr(node, name, AttributeType.Int) is { } a ? a.I : fallback;

    /// <summary>A boolean INT attribute: 0 or 1, as the operator specs define it; any other value is NM0209.</summary>
    private long AttrFlag(NodeProto node, string name, long fallback)
    {
        var value = AttrInt(node, name, fallback);
        return value is 0 or 1 ? value : throw Invalid(node, $"attribute '{name}' is {value}; it is a flag, 0 or 1");
    }

    private float AttrFloat(NodeProto node, string name, float fallback) => Attr(node, name, AttributeType.Float) is { } a ? a.F : fallback;

    private string AttrString(NodeProto node, string name, string fallback) => Attr(node, name, AttributeType.String) is { } a ? Encoding.UTF8.GetString(a.S.Span) : fallback;

    private long[]? AttrInts(NodeProto node, string name) => Attr(node, name, AttributeType.Ints) is { } a ? [.. a.Ints] : null;

    private double[]? AttrFloats(NodeProto node, string name) => Attr(node, name, AttributeType.Floats) is { } a ? [.. a.Floats.Select(f => (double)f)] : null;

    private TensorProto? AttrTensor(NodeProto node, string name) => Attr(node, name, AttributeType.Tensor)?.T;

    private NeuralException Invalid(NodeProto node, string message) =>
        DiagnosticCodes.OnnxInvalidAttribute.Exception(_location, $"{Describe(node)}: {message}.");

    private NeuralException OutOfRange(NodeProto node, string message) =>
        DiagnosticCodes.AttributeOutOfRange.Exception(_location, $"{Describe(node)}: {message}.");

    private NeuralException Unsupported(NodeProto node, string message) =>
        DiagnosticCodes.OnnxUnsupportedOperator.Exception(_location, $"{Describe(node)}: {message}.");
}
