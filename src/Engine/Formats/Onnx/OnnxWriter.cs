using System.Buffers;
using System.Globalization;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Writes an ONNX model after passes: the <see cref="ModelProto"/> it was read from, edited only
/// where the IR changed (docs/onnx.md, "Writing").
/// <list type="bullet">
/// <item>A node whose IR node a pass removed is dropped; its readers already read, in the IR, the
/// value that replaced its output. When that output was a model output, the producer of the
/// replacement is renamed to keep the model's output name (or, when it cannot be renamed, an
/// Identity keeps it).</item>
/// <item>An input a pass changed is written under the ONNX name of its new value; a weight or bias
/// a fold computed becomes a new initializer (a conv that gained a bias gains an input). Inputs a
/// pass did not touch keep the file's own spelling.</item>
/// <item>Initializers, and nodes folded to constants at read time (shape chains, Constant), that
/// were read before and are read by nothing now are dropped; everything that was already unused
/// stays. <c>value_info</c> of values that no longer exist, or whose shape a pass changed (channel
/// pruning), is dropped, the rest kept. A depthwise conv that pruning narrowed states its new <c>group</c>.</item>
/// <item>Everything else is the parsed message as read: doc strings, metadata, functions, training
/// info and fields this schema does not name (kept by Google.Protobuf as unknown fields). Unchanged
/// nodes and initializers are the very objects that were read; the output message shares them.</item>
/// <item>New tensors are not built in memory: each is a <see cref="ByteString"/> over a
/// <see cref="MemoryManager{T}"/> that computes its bytes into one scratch buffer when the
/// serialiser reaches it, so writing holds at most one folded tensor at a time.</item>
/// <item>External data (a model that keeps weights in files beside it) is copied into one file
/// beside the output, <c>NAME.onnx.data</c>; new tensors of 1 KiB or more go there too.</item>
/// <item>Everything is written to <c>.tmp</c> files moved into place at the end; on failure they are
/// deleted and an existing output is left as it was.</item>
/// </list>
/// </summary>
internal sealed partial class OnnxWriter
{
    private readonly Model _model;
    private readonly OnnxModel _document;
    private readonly GraphProto _source;
    private readonly string _dataFileName;
    private readonly OnnxWriterTensors _tensors;

    /// <summary>
    /// An initializer of the file whose values were replaced under its own IR name (a transplant) is
    /// written under its own ONNX name, in its own place, instead of as a new tensor beside it.
    /// </summary>
    private readonly bool _replaceInPlace;

    /// <summary>Every value and node name of the source graph, and every name given out since.</summary>
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    /// <summary>Computed values renamed so that a model output keeps its name.</summary>
    private readonly Dictionary<string, string> _renamed = new(StringComparer.Ordinal);

    /// <summary>A value the IR no longer has → the value that replaced it (for Shape nodes folded at read time).</summary>
    private readonly Dictionary<string, string> _replaced = new(StringComparer.Ordinal);

    /// <summary>IR initializer name → the new ONNX tensor written for it.</summary>
    private readonly Dictionary<string, TensorProto> _newTensors = new(StringComparer.Ordinal);

    /// <summary>The IR's shape of every value, for checking <c>value_info</c>; inferred when first needed.</summary>
    private Dictionary<string, Shape>? _shapes;

    /// <summary>Values the IR still computes (or takes as graph inputs); built when first needed.</summary>
    private HashSet<string>? _produced;

    private OnnxWriter(Model model, OnnxModel document, string definitionPath, bool replaceInPlace)
    {
        _replaceInPlace = replaceInPlace;
        _model = model;
        _document = document;
        _source = document.Proto.Graph;
        _dataFileName = Path.GetFileName(definitionPath) + ".data";
        _tensors = new OnnxWriterTensors(_source, document.Path, _dataFileName);
        foreach (var node in _source.Node)
        {
            _taken.UnionWith(node.Input);
            _taken.UnionWith(node.Output);
            _taken.Add(node.Name);
        }

        _taken.UnionWith(_source.Initializer.Select(i => i.Name));
        _taken.UnionWith(_source.Input.Select(i => i.Name));
        _taken.UnionWith(_source.Output.Select(i => i.Name));
        _taken.UnionWith(_source.ValueInfo.Select(i => i.Name));
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="definitionPath"/>; <paramref name="replaceInPlace"/>: see <see cref="_replaceInPlace"/>.</summary>
    public static void Write(Model model, string definitionPath, bool replaceInPlace = false)
    {
        var document = model.SourceDocument as OnnxModel
            ?? throw new ArgumentException($"Model '{model.DefinitionPath}' was not read by the ONNX reader; it has no ONNX document to rewrite.", nameof(model));
        var writer = new OnnxWriter(model, document, definitionPath, replaceInPlace);
        var output = writer.Edit();
        writer.Save(output, definitionPath);
    }

    // ------------------------------------------------------------------------------------------
    // The edited message.

    private ModelProto Edit()
    {
        var kept = KeptNodes();
        var outputIdentities = _model.Graph.OutputsChosen ? [] : PlanModelOutputs(kept);
        var outputNames = _model.Graph.OutputsChosen ? _model.Graph.Outputs.Select(Renamed).ToList() : _source.Output.Select(o => o.Name).ToList();

        var nodes = new List<NodeProto>(_source.Node.Count);
        var folded = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < _source.Node.Count; i++)
        {
            if (_document.FoldedNodes.Contains(i))
            {
                var node = Folded(_source.Node[i]);
                folded.Add(node);
                nodes.Add(node);
            }
            else if (kept.TryGetValue(i, out var ir))
            {
                nodes.Add(Kept(i, ir));
            }
        }

        foreach (var (value, name) in outputIdentities)
        {
            var identity = new NodeProto { OpType = "Identity", Name = Unique(name + "/identity") };
            identity.Input.Add(Resolve(value, DT.Float));
            identity.Output.Add(name);
            nodes.Add(identity);
        }

        // Liveness: what was read before (by a node or as a model output) and is read by nothing now goes.
        var readBefore = new HashSet<string>(_source.Node.SelectMany(n => n.Input).Concat(_source.Output.Select(o => o.Name)), StringComparer.Ordinal);
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        void Count(IEnumerable<string> names, int delta)
        {
            foreach (var name in names.Where(n => n.Length > 0))
            {
                readers[name] = readers.GetValueOrDefault(name) + delta;
            }
        }

        Count(nodes.SelectMany(n => n.Input), 1);
        Count(outputNames, 1);
        for (var changed = true; changed;)
        {
            changed = false;
            for (var i = nodes.Count - 1; i >= 0; i--)
            {
                var node = nodes[i];
                if (folded.Contains(node) && node.Output.Any(readBefore.Contains) && node.Output.All(o => readers.GetValueOrDefault(o) == 0))
                {
                    nodes.RemoveAt(i);
                    Count(node.Input, -1);
                    changed = true;
                }
            }
        }

        var initializers = new List<TensorProto>(_source.Initializer.Count + _newTensors.Count);
        var dropped = new HashSet<string>(StringComparer.Ordinal);
        var sourceNames = _source.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inPlace = _newTensors.Values.Where(t => sourceNames.Contains(t.Name)).ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var tensor in _source.Initializer)
        {
            if (inPlace.TryGetValue(tensor.Name, out var replacement))
            {
                initializers.Add(replacement);
            }
            else if (readers.GetValueOrDefault(tensor.Name) == 0 && readBefore.Contains(tensor.Name))
            {
                dropped.Add(tensor.Name);
            }
            else
            {
                initializers.Add(tensor);
            }
        }

        initializers.AddRange(_newTensors.Values.Where(t => readers.GetValueOrDefault(t.Name) > 0 && !inPlace.ContainsKey(t.Name)));

        var existedBefore = new HashSet<string>(_source.Node.SelectMany(n => n.Output).Concat(_source.Input.Select(i => i.Name)).Concat(_source.Initializer.Select(i => i.Name)), StringComparer.Ordinal);
        var existsNow = new HashSet<string>(nodes.SelectMany(n => n.Output).Concat(_source.Input.Select(i => i.Name).Where(n => !dropped.Contains(n))).Concat(initializers.Select(i => i.Name)), StringComparer.Ordinal);
        CheckWellFormed(nodes, existsNow);

        var output = new ModelProto();
        output.MergeFrom(_document.Proto); // shares nodes, tensors and value infos with the source: nothing big is copied
        var graph = output.Graph;
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers.Select(_tensors.External));
        graph.Input.Clear();
        graph.Input.AddRange(_source.Input.Where(i => !dropped.Contains(i.Name)));
        if (_document.Proto.IrVersion < 4)
        {
            // IR versions before 4 list every initializer among the graph inputs.
            graph.Input.AddRange(_newTensors.Values.Where(t => readers.GetValueOrDefault(t.Name) > 0 && !inPlace.ContainsKey(t.Name)).Select(InputOf));
        }

        graph.Output.Clear();
        graph.Output.AddRange(outputNames.Select(OutputInfo));
        graph.ValueInfo.Clear();
        graph.ValueInfo.AddRange(_source.ValueInfo.Where(v => (!existedBefore.Contains(v.Name) || existsNow.Contains(v.Name)) && !ShapeChanged(v)));
        return output;
    }

    /// <summary>
    /// True when the IR's shape of the value contradicts a known dimension of its <c>value_info</c>
    /// (channel pruning made it narrower): the stale entry is dropped, not kept to mislead a runtime.
    /// </summary>
    private bool ShapeChanged(ValueInfoProto info)
    {
        _shapes ??= ShapeInference.Run(_model.Graph);
        if (!_shapes.TryGetValue(info.Name, out var shape) || info.Type?.TensorType?.Shape is not { } declared || declared.Dim.Count != shape.Rank)
        {
            return false;
        }

        for (var i = 0; i < shape.Rank; i++)
        {
            if (declared.Dim[i].HasDimValue && declared.Dim[i].DimValue != shape[i])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A model output as the file declared it, unless an edit chose it or changed its shape (a class
    /// subset): then as the IR infers it, float32 of known dimensions.
    /// </summary>
    private ValueInfoProto OutputInfo(string name)
    {
        var declared = _source.Output.Concat(_source.ValueInfo).FirstOrDefault(o => o.Name == name);
        if (declared is not null && !ShapeChanged(declared))
        {
            return declared;
        }

        _shapes ??= ShapeInference.Run(_model.Graph);
        var value = _model.Graph.Outputs.FirstOrDefault(v => Renamed(v) == name) ?? name;
        var shape = new TensorShapeProto();
        foreach (var d in _shapes[value].Dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        var elementType = declared?.Type?.TensorType?.ElemType ?? (int)DT.Float;
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }

    private static ValueInfoProto InputOf(TensorProto tensor)
    {
        var shape = new TensorShapeProto();
        foreach (var d in tensor.Dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = tensor.Name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = tensor.DataType, Shape = shape } } };
    }

    /// <summary>True when <paramref name="value"/> is an IR initializer that a pass made or whose data it replaced.</summary>
    private bool Changed(string value) =>
        _model.Graph.Initializers.TryGetValue(value, out var initializer)
        && !(_document.InitializerData.TryGetValue(value, out var data) && ReferenceEquals(data, initializer.Data));

    /// <summary>The ONNX name for an IR value at an input a pass changed.</summary>
    private string Resolve(string value, DT type)
    {
        if (value.Length == 0)
        {
            return value;
        }

        if (Changed(value))
        {
            return NewTensor(_model.Graph.Initializers[value], type).Name;
        }

        // An initializer as read keeps its name (an ONNX initializer or a Constant's output); a computed value may be renamed.
        return Renamed(value);
    }

    /// <summary>Element type of the tensor that held an input before (new tensors keep it); FLOAT when unknown.</summary>
    private DT TypeOf(string value) =>
        _document.InitializerIndex.TryGetValue(value, out var index) && (DT)_source.Initializer[index].DataType is DT.Float16 or DT.Double
            ? (DT)_source.Initializer[index].DataType
            : DT.Float;

    private TensorProto NewTensor(Initializer initializer, DT type)
    {
        if (_newTensors.TryGetValue(initializer.Name, out var existing))
        {
            return existing;
        }

        var data = initializer.Data ?? throw new InvalidOperationException($"initializer '{initializer.Name}' has no values; a model opened without weights cannot be written.");
        if (data.ElementCount != initializer.Shape.ElementCount)
        {
            throw new InvalidOperationException($"initializer '{initializer.Name}' has {data.ElementCount} values for shape {initializer.Shape}.");
        }

        var ownName = _replaceInPlace && _document.InitializerIndex.TryGetValue(initializer.Name, out var index) ? _source.Initializer[index].Name : null;
        var tensor = new TensorProto { Name = ownName ?? Unique(initializer.Name), DataType = (int)type };
        tensor.Dims.AddRange(initializer.Shape.Dims);
        _newTensors[initializer.Name] = tensor;
        _tensors.AddNew(tensor, data);
        return tensor;
    }

    private string Unique(string name)
    {
        var candidate = name;
        for (var i = 2; !_taken.Add(candidate); i++)
        {
            candidate = string.Create(CultureInfo.InvariantCulture, $"{name}.{i}");
        }

        return candidate;
    }

    /// <summary>Every node input is produced, and every value produced once: what the reader will check.</summary>
    private void CheckWellFormed(List<NodeProto> nodes, HashSet<string> existsNow)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var input in node.Input.Where(i => i.Length > 0))
            {
                if (!existsNow.Contains(input))
                {
                    throw new InvalidOperationException($"writing '{Path.GetFileName(_document.Path)}': node '{node.Name}' ({node.OpType}) would read '{input}', which nothing produces any more.");
                }
            }

            foreach (var output in node.Output.Where(o => o.Length > 0))
            {
                if (!seen.Add(output))
                {
                    throw new InvalidOperationException($"writing '{Path.GetFileName(_document.Path)}': '{output}' would be produced twice.");
                }
            }
        }
    }

    private void Save(ModelProto output, string definitionPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(definitionPath)) ?? ".";
        var dataPath = Path.Combine(folder, _dataFileName);
        void WriteModel(string temp)
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            output.WriteTo(stream);
        }

        if (_tensors.HasExternalData)
        {
            AtomicFiles.Write((dataPath, _tensors.WriteExternal), (definitionPath, WriteModel));
        }
        else
        {
            AtomicFiles.Write((definitionPath, WriteModel));
        }
    }
}
