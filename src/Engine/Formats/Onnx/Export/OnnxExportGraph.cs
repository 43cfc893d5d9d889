using System.Globalization;
using System.Text;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// The ONNX graph being written: the nodes emitted so far, the ONNX name of every IR value
/// (sanitised and unique), and the initializers. IR weights are registered with their
/// <see cref="TensorData"/> and never read here: <see cref="OnnxExportTensors"/> streams them when the
/// file is written. Constants the lowerings compute (shape vectors, masks, divisor maps) are small and
/// stored in the message.
/// </summary>
internal sealed class OnnxExportGraph(Graph graph, IReadOnlyDictionary<string, Shape> shapes, int opset, bool symbolicBatch, WeightQuantization quantization = WeightQuantization.None)
{
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    /// <summary>(IR initializer, dims) → the ONNX initializer over its data with those dims.</summary>
    private readonly Dictionary<(string Name, string Dims), string> _weights = new();

    public Graph Source { get; } = graph;

    public IReadOnlyDictionary<string, Shape> Shapes { get; } = shapes;

    public int Opset { get; } = opset;

    public bool SymbolicBatch { get; } = symbolicBatch;

    public WeightQuantization Quantization { get; } = quantization;

    /// <summary>Calibrated ranges of the values whose activations are quantized (int8-static); null: activations stay float.</summary>
    public IReadOnlyDictionary<string, ValueRange>? ActivationRanges { get; init; }

    /// <summary>IR value → its quantize / dequantize pair, for each activation read through one, in the order written.</summary>
    public Dictionary<string, ActivationPair> QuantizedActivations { get; } = new(StringComparer.Ordinal);

    /// <summary>The activations written through pairs, as the export reports them (a reader counted once however many of its nodes read the value).</summary>
    public IReadOnlyList<LossyActivation> LossyActivations() =>
        [.. QuantizedActivations.Select(a => new LossyActivation(a.Key, a.Value.Scale, a.Value.ZeroPoint, a.Value.Producer, [.. a.Value.Readers.DistinctBy(r => r.Index)]))];

    /// <summary>The weights written quantized, in the order of their layers.</summary>
    public List<LossyWeight> Quantized { get; } = [];

    public List<NodeProto> Nodes { get; } = [];

    /// <summary>Constants computed by lowerings, in the message.</summary>
    public List<TensorProto> Constants { get; } = [];

    /// <summary>IR weights registered as initializers: the proto (without data) and the data to stream into it.</summary>
    public List<(TensorProto Tensor, TensorData Data)> Weights { get; } = [];

    /// <summary>The ONNX name of an IR value: an IR weight is registered as an initializer the first time it is named.</summary>
    public string ValueName(string irValue)
    {
        if (_names.TryGetValue(irValue, out var name))
        {
            return name;
        }

        if (Source.Initializers.TryGetValue(irValue, out var initializer))
        {
            return Weight(initializer, initializer.Shape.Dims);
        }

        name = Unique(Sanitise(irValue));
        _names[irValue] = name;
        return name;
    }

    /// <summary>An ONNX initializer over the data of IR weight <paramref name="initializer"/>, seen with <paramref name="dims"/> (same element count).</summary>
    public string Weight(Initializer initializer, IReadOnlyList<long> dims)
    {
        var key = (initializer.Name, string.Join('x', dims));
        if (_weights.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var data = initializer.Data ?? throw new InvalidOperationException($"initializer '{initializer.Name}' has no values.");
        var sameDims = dims.SequenceEqual(initializer.Shape.Dims);
        var name = Unique(Sanitise(sameDims ? initializer.Name : initializer.Name + "/" + key.Item2));
        if (sameDims)
        {
            _names[initializer.Name] = name;
        }

        var tensor = new TensorProto { Name = name, DataType = (int)(initializer.DataType == Ir.DataType.Int64 ? DT.Int64 : DT.Float) };
        tensor.Dims.AddRange(dims);
        if (initializer.DataType == Ir.DataType.Int64)
        {
            // Integer tensors of the IR (shape vectors read from ONNX) are small; their floats hold exact integers.
            tensor.Int64Data.AddRange(data.ToArray().Select(v => (long)v));
            Constants.Add(tensor);
        }
        else
        {
            Weights.Add((tensor, data));
        }

        _weights[key] = name;
        return name;
    }

    /// <summary>A new initializer of element type <paramref name="type"/> whose values (exact in that type) are streamed from <paramref name="data"/> when the file is written.</summary>
    public string QuantizedWeight(string stem, DT type, IReadOnlyList<long> dims, TensorData data)
    {
        var tensor = new TensorProto { Name = Unique(stem), DataType = (int)type };
        tensor.Dims.AddRange(dims);
        Weights.Add((tensor, data));
        return tensor.Name;
    }

    /// <summary>A fresh, unique value or node name built from <paramref name="stem"/>.</summary>
    public string Unique(string stem)
    {
        var candidate = stem;
        for (var i = 2; !_taken.Add(candidate); i++)
        {
            candidate = string.Create(CultureInfo.InvariantCulture, $"{stem}_{i}");
        }

        return candidate;
    }

    public string Constant(string stem, DT type, IReadOnlyList<long> dims, Action<TensorProto> fill)
    {
        var tensor = new TensorProto { Name = Unique(stem), DataType = (int)type };
        tensor.Dims.AddRange(dims);
        fill(tensor);
        Constants.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Letters, digits, '_', '.', '-' and '/' are kept; anything else becomes '_' (names stay readable in every tool).</summary>
    public static string Sanitise(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var ch in name)
        {
            sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.' or '-' or '/' ? ch : '_');
        }

        return sb.Length == 0 ? "value" : sb.ToString();
    }

    /// <summary>The ONNX value info of an IR value: float, with its inferred shape (the batch symbolic when asked).</summary>
    public ValueInfoProto ValueInfo(string onnxName, Shape shape, long batch)
    {
        var dims = new TensorShapeProto();
        for (var i = 0; i < shape.Rank; i++)
        {
            dims.Dim.Add(i == 0 && SymbolicBatch && shape[0] == batch
                ? new TensorShapeProto.Types.Dimension { DimParam = "N" }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        }

        return new ValueInfoProto { Name = onnxName, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DT.Float, Shape = dims } } };
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, double value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
