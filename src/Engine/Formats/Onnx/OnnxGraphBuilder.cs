using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NuGet.Versioning;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Translates an ONNX graph into the IR. The graph is checked first (every value has exactly one
/// producer, every input is produced, no cycle: <see cref="OnnxGraphChecks"/>), then nodes are
/// visited in dependency order with shapes inferred as they go. Each node is looked up in
/// <see cref="OnnxOperatorMap"/>: nodes whose inputs are all constants (Constant, the
/// Shape → Gather → Cast → Unsqueeze → Concat chains exporters emit to compute shapes, Identity on a
/// weight) are folded to constants at read time (<see cref="OnnxConstantFolder"/>) and produce no IR
/// node; constant inputs of IR nodes become IR initializers (under the ONNX initializer's name when
/// they alias one). Every other node maps to IR nodes or is refused with NM0202 naming it: there is
/// no silent zero.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Default-domain operator set versions whose operator semantics this reader implements.</summary>
    public static VersionRange SupportedOpsets { get; } = VersionRange.Parse("[7, 18]");

    private readonly string _path;
    private readonly SourceLocation _location;
    private readonly ModelProto _proto;
    private readonly GraphProto _g;
    private readonly Shape? _inputOverride;
    private readonly OnnxValueTable _values;
    private readonly Dictionary<string, int> _initializerIndex = new(StringComparer.Ordinal);
    private readonly HashSet<int> _folded = [];
    private long _opset;

    private OnnxGraphBuilder(string path, ModelProto proto, Shape? inputOverride)
    {
        _path = path;
        _location = new SourceLocation(path);
        _proto = proto;
        _g = proto.Graph ?? throw DiagnosticCodes.OnnxMalformed.Exception(_location, $"'{Path.GetFileName(path)}' has no graph; it is not an ONNX model (or only its metadata was saved).");
        _inputOverride = inputOverride;
        _values = new OnnxValueTable(_location);
    }

    public static OnnxModel Build(string path, ModelProto proto, Shape? inputOverride, out Graph graph)
    {
        var builder = new OnnxGraphBuilder(path, proto, inputOverride);
        builder.BuildAll();
        graph = builder._values.Graph;
        var data = graph.Initializers.ToDictionary(i => i.Key, i => i.Value.Data, StringComparer.Ordinal);
        return new OnnxModel(path, proto, builder._opset, builder._initializerIndex, builder._folded, builder._values.NodeInputs, data);
    }

    private void BuildAll()
    {
        CheckOpset();
        ReadInitializers();
        ReadInputs();
        foreach (var index in OnnxGraphChecks.Schedule(_g, _values.IsDefined, _location))
        {
            var proto = _g.Node[index];
            using var scope = Checked.At(_location);
            OnnxGraphChecks.CheckArity(proto, _opset, _location);
            var node = new OnnxNode(proto, index, _opset, _values, _path);
            var op = OnnxOperatorMap.Find(proto);
            if (op?.Fold is { } fold && OnnxConstantFolder.TryFold(node, fold, _values.Constants))
            {
                _folded.Add(index);
            }
            else if (op?.Map is { } map)
            {
                map(node);
            }
            else
            {
                throw node.Unsupported(proto.Domain is "" or "ai.onnx"
                    ? $"operator {proto.OpType} is not supported; its cost would be unknown, so the model is refused rather than reported with a zero"
                    : $"operator {proto.OpType} of domain '{proto.Domain}' is not supported");
            }
        }

        foreach (var output in _g.Output)
        {
            if (!_values.IsDefined(output.Name))
            {
                throw DiagnosticCodes.OnnxUnknownValue.Exception(_location, $"graph output '{output.Name}' is produced by no node, initializer or graph input.");
            }

            _values.Graph.Outputs.Add(_values.OutputValue(output.Name));
        }
    }

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
            _values.Constants[proto.Name] = new OnnxConstant(tensor.Shape, tensor.Type) { Tensor = tensor, Initializer = proto.Name };
        }
    }

    private void ReadInputs()
    {
        var first = true;
        foreach (var input in _g.Input)
        {
            if (_values.Constants.ContainsKey(input.Name))
            {
                continue; // IR < 4 lists initializers among the inputs.
            }

            if (_values.Shapes.ContainsKey(input.Name))
            {
                throw DiagnosticCodes.OnnxDuplicateValue.Exception(_location, $"graph input '{input.Name}' is declared twice.");
            }

            var shape = first && _inputOverride is not null ? _inputOverride : InputShape(input);
            first = false;
            _values.Shapes[input.Name] = shape;
            _values.Graph.Inputs[input.Name] = shape;
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
}
