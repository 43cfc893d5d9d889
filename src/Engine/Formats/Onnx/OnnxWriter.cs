using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
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
/// stays. <c>value_info</c> of values that no longer exist is dropped, the rest kept.</item>
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
internal sealed class OnnxWriter
{
    /// <summary>New tensors this large go to the external data file of a model that has one (onnx's own default threshold).</summary>
    private const long ExternalThreshold = 1024;

    private readonly Model _model;
    private readonly OnnxModel _document;
    private readonly GraphProto _source;
    private readonly string _dataFileName;

    /// <summary>Every value and node name of the source graph, and every name given out since.</summary>
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    /// <summary>Computed values renamed so that a model output keeps its name.</summary>
    private readonly Dictionary<string, string> _renamed = new(StringComparer.Ordinal);

    /// <summary>A value the IR no longer has → the value that replaced it (for Shape nodes folded at read time).</summary>
    private readonly Dictionary<string, string> _replaced = new(StringComparer.Ordinal);

    /// <summary>IR initializer name → the new ONNX tensor written for it.</summary>
    private readonly Dictionary<string, TensorProto> _newTensors = new(StringComparer.Ordinal);

    /// <summary>The lazy data of each new tensor.</summary>
    private readonly Dictionary<TensorProto, TensorData> _lazy = new(ReferenceEqualityComparer.Instance);

    private readonly Scratch _scratch = new();

    /// <summary>Values the IR still computes (or takes as graph inputs); built when first needed.</summary>
    private HashSet<string>? _produced;

    private OnnxWriter(Model model, OnnxModel document, string definitionPath)
    {
        _model = model;
        _document = document;
        _source = document.Proto.Graph;
        _dataFileName = Path.GetFileName(definitionPath) + ".data";
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

    public static void Write(Model model, string definitionPath)
    {
        var document = model.SourceDocument as OnnxModel
            ?? throw new ArgumentException($"Model '{model.DefinitionPath}' was not read by the ONNX reader; it has no ONNX document to rewrite.", nameof(model));
        var writer = new OnnxWriter(model, document, definitionPath);
        var output = writer.Edit();
        writer.Save(output, definitionPath);
    }

    // ------------------------------------------------------------------------------------------
    // The edited message.

    private ModelProto Edit()
    {
        var kept = KeptNodes();
        var outputIdentities = PlanModelOutputs(kept);

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
        Count(_source.Output.Select(o => o.Name), 1);
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
        foreach (var tensor in _source.Initializer)
        {
            if (readers.GetValueOrDefault(tensor.Name) == 0 && readBefore.Contains(tensor.Name))
            {
                dropped.Add(tensor.Name);
            }
            else
            {
                initializers.Add(tensor);
            }
        }

        initializers.AddRange(_newTensors.Values.Where(t => readers.GetValueOrDefault(t.Name) > 0));

        var existedBefore = new HashSet<string>(_source.Node.SelectMany(n => n.Output).Concat(_source.Input.Select(i => i.Name)).Concat(_source.Initializer.Select(i => i.Name)), StringComparer.Ordinal);
        var existsNow = new HashSet<string>(nodes.SelectMany(n => n.Output).Concat(_source.Input.Select(i => i.Name).Where(n => !dropped.Contains(n))).Concat(initializers.Select(i => i.Name)), StringComparer.Ordinal);
        CheckWellFormed(nodes, existsNow);

        var output = new ModelProto();
        output.MergeFrom(_document.Proto); // shares nodes, tensors and value infos with the source: nothing big is copied
        var graph = output.Graph;
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers.Select(External));
        graph.Input.Clear();
        graph.Input.AddRange(_source.Input.Where(i => !dropped.Contains(i.Name)));
        if (_document.Proto.IrVersion < 4)
        {
            // IR versions before 4 list every initializer among the graph inputs.
            graph.Input.AddRange(_newTensors.Values.Where(t => readers.GetValueOrDefault(t.Name) > 0).Select(InputOf));
        }

        graph.ValueInfo.Clear();
        graph.ValueInfo.AddRange(_source.ValueInfo.Where(v => !existedBefore.Contains(v.Name) || existsNow.Contains(v.Name)));
        return output;
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

    /// <summary>Source node index → the IR node that stands for it; refuses nodes a pass made.</summary>
    private Dictionary<int, Node> KeptNodes()
    {
        var kept = new Dictionary<int, Node>();
        foreach (var node in _model.Graph.Nodes)
        {
            var index = node.Origin.Index;
            if (index < 0 || index >= _source.Node.Count || !_document.NodeInputs.ContainsKey(index) || !kept.TryAdd(index, node)
                || !node.Outputs.SequenceEqual(_source.Node[index].Output.Where(o => o.Length > 0), StringComparer.Ordinal))
            {
                throw new NotSupportedException(
                    $"IR node '{node.Name}' ({node.OpType}) does not stand for one node of '{Path.GetFileName(_document.Path)}' with its outputs; the ONNX writer writes the file's own nodes, edited, not nodes a pass made.");
            }
        }

        // What replaced each value the passes rewired (for Shape nodes folded at read time that read it).
        foreach (var (index, node) in kept)
        {
            var before = _document.NodeInputs[index];
            for (var i = 0; i < before.Count && i < node.Inputs.Count; i++)
            {
                if (before[i] != node.Inputs[i] && before[i].Length > 0 && !_document.InitializerData.ContainsKey(before[i]))
                {
                    _replaced.TryAdd(before[i], node.Inputs[i]);
                }
            }
        }

        return kept;
    }

    /// <summary>
    /// Keeps every model output's name: where the IR now delivers another value (the removed node's
    /// input, the conv a BatchNorm folded into), that value's producer is renamed to the output's
    /// name; where that is impossible (a graph input, a constant, a value that is itself another
    /// output or already renamed), an Identity is planned. Returns the planned Identities.
    /// </summary>
    private List<(string Value, string Name)> PlanModelOutputs(Dictionary<int, Node> kept)
    {
        if (_model.Graph.Outputs.Count != _source.Output.Count)
        {
            throw new NotSupportedException($"the passes changed the number of model outputs from {_source.Output.Count} to {_model.Graph.Outputs.Count}; the ONNX writer keeps the model's outputs.");
        }

        var produced = new HashSet<string>(kept.Values.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var outputNames = new HashSet<string>(_source.Output.Select(o => o.Name), StringComparer.Ordinal);
        var identities = new List<(string, string)>();
        for (var i = 0; i < _source.Output.Count; i++)
        {
            var name = _source.Output[i].Name;
            var value = _model.Graph.Outputs[i];
            if (value == name)
            {
                continue;
            }

            _replaced.TryAdd(name, value);
            if (produced.Contains(value) && !outputNames.Contains(value) && !_renamed.ContainsKey(value))
            {
                _renamed[value] = name;
            }
            else
            {
                identities.Add((value, name));
            }
        }

        return identities;
    }

    /// <summary>A node folded at read time: kept as it was, except that it follows renames and rewired values.</summary>
    private NodeProto Folded(NodeProto node)
    {
        var inputs = node.Input.Select(Follow).ToList();
        var outputs = node.Output.Select(Renamed).ToList();
        return Replace(node, inputs, outputs);
    }

    /// <summary>The ONNX name of a computed value that a folded node reads, after renames and rewiring.</summary>
    private string Follow(string value)
    {
        if (value.Length == 0 || _document.InitializerIndex.ContainsKey(value))
        {
            return value;
        }

        _produced ??= new HashSet<string>(_model.Graph.Nodes.SelectMany(n => n.Outputs).Concat(_model.Graph.Inputs.Keys), StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var current = value;
        while (!_produced.Contains(current) && _replaced.TryGetValue(current, out var next) && seen.Add(current))
        {
            current = next;
        }

        return Renamed(current);
    }

    private string Renamed(string value) => _renamed.GetValueOrDefault(value, value);

    /// <summary>A node the IR kept, with the inputs the passes gave it.</summary>
    private NodeProto Kept(int index, Node ir)
    {
        var source = _source.Node[index];
        var before = _document.NodeInputs[index];
        var inputs = source.Input.Select(Renamed).ToList();
        for (var i = 0; i < Math.Max(before.Count, ir.Inputs.Count); i++)
        {
            var now = i < ir.Inputs.Count ? ir.Inputs[i] : string.Empty;
            var was = i < before.Count ? before[i] : null;
            if (now == was && !Changed(now))
            {
                continue; // the file's own spelling (an alias through Identity stays an alias)
            }

            var name = Resolve(now, TypeOf(was ?? (before.Count > 1 ? before[1] : string.Empty)));
            while (inputs.Count <= i)
            {
                inputs.Add(string.Empty);
            }

            inputs[i] = name;
        }

        while (inputs.Count > 0 && inputs[^1].Length == 0)
        {
            inputs.RemoveAt(inputs.Count - 1);
        }

        return Replace(source, inputs, source.Output.Select(Renamed).ToList());
    }

    private static NodeProto Replace(NodeProto node, List<string> inputs, List<string> outputs)
    {
        if (inputs.SequenceEqual(node.Input, StringComparer.Ordinal) && outputs.SequenceEqual(node.Output, StringComparer.Ordinal))
        {
            return node;
        }

        var copy = node.Clone();
        copy.Input.Clear();
        copy.Input.AddRange(inputs);
        copy.Output.Clear();
        copy.Output.AddRange(outputs);
        return copy;
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

        var tensor = new TensorProto { Name = Unique(initializer.Name), DataType = (int)type };
        tensor.Dims.AddRange(initializer.Shape.Dims);
        _newTensors[initializer.Name] = tensor;
        _lazy[tensor] = data;
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

    // ------------------------------------------------------------------------------------------
    // Tensor storage.

    /// <summary>Data to put in the external file: a slice of a source file, or a new tensor.</summary>
    private sealed record ExternalPiece(TensorProto Tensor, long Offset, long Length, string? SourcePath, long SourceOffset, TensorData? Data, DT Type);

    private readonly List<ExternalPiece> _external = [];
    private long _externalLength;

    private bool SourceHasExternalData => _source.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External);

    /// <summary>The tensor as written: external ones point into the output's data file; new ones get their (lazy) bytes.</summary>
    private TensorProto External(TensorProto tensor)
    {
        if (_lazy.TryGetValue(tensor, out var data))
        {
            var type = (DT)tensor.DataType;
            var bytes = data.ElementCount * ElementSize(type);
            if (SourceHasExternalData && bytes >= ExternalThreshold)
            {
                return Point(tensor, bytes, null, 0, data, type);
            }

            tensor.RawData = UnsafeByteOperations.UnsafeWrap(new LazyBytes(data, type, checked((int)bytes), _scratch).Memory);
            return tensor;
        }

        if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
        {
            return tensor;
        }

        var opened = OnnxTensor.Open(tensor, tensor.Name, _document.Path);
        return Point(tensor.Clone(), opened.ElementCount * opened.ElementSize, opened.ExternalPath, opened.ExternalOffset, null, (DT)tensor.DataType);
    }

    private TensorProto Point(TensorProto tensor, long length, string? sourcePath, long sourceOffset, TensorData? data, DT type)
    {
        var offset = _externalLength;
        var others = tensor.ExternalData.Where(e => e.Key is not ("location" or "offset" or "length")).ToList();
        tensor.ExternalData.Clear();
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = _dataFileName });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
        tensor.ExternalData.AddRange(others);
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        _external.Add(new ExternalPiece(tensor, offset, length, sourcePath, sourceOffset, data, type));
        _externalLength += length;
        return tensor;
    }

    private static int ElementSize(DT type) => type switch
    {
        DT.Float => 4,
        DT.Float16 => 2,
        DT.Double => 8,
        _ => throw new NotSupportedException($"new tensors of type {type} are not written."),
    };

    /// <summary>Writes <paramref name="data"/> as little-endian values of <paramref name="type"/> into <paramref name="destination"/>.</summary>
    private static void Encode(TensorData data, DT type, Span<byte> destination)
    {
        var count = checked((int)data.ElementCount);
        if (type == DT.Float)
        {
            var floats = MemoryMarshal.Cast<byte, float>(destination);
            data.CopyTo(floats);
            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<byte, int>(destination);
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }

            return;
        }

        var values = ArrayPool<float>.Shared.Rent(count);
        try
        {
            data.CopyTo(values.AsSpan(0, count));
            for (var i = 0; i < count; i++)
            {
                if (type == DT.Float16)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)values[i]);
                }
                else
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(destination[(i * 8)..], values[i]);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Files.

    private void Save(ModelProto output, string definitionPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(definitionPath)) ?? ".";
        var dataPath = Path.Combine(folder, _dataFileName);
        void WriteModel(string temp)
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            output.WriteTo(stream);
        }

        if (_external.Count > 0)
        {
            AtomicFiles.Write((dataPath, WriteExternal), (definitionPath, WriteModel));
        }
        else
        {
            AtomicFiles.Write((definitionPath, WriteModel));
        }
    }

    private void WriteExternal(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var buffer = new byte[1 << 20];
        foreach (var piece in _external)
        {
            if (piece.SourcePath is not null)
            {
                using var source = File.OpenHandle(piece.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read);
                for (long done = 0; done < piece.Length;)
                {
                    var n = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(buffer.Length, piece.Length - done)), piece.SourceOffset + done);
                    if (n == 0)
                    {
                        throw new EndOfStreamException($"'{piece.SourcePath}' ended while copying tensor '{piece.Tensor.Name}'.");
                    }

                    stream.Write(buffer, 0, n);
                    done += n;
                }
            }
            else
            {
                var bytes = _scratch.Get(checked((int)piece.Length));
                Encode(piece.Data!, piece.Type, bytes.AsSpan(0, (int)piece.Length));
                stream.Write(bytes, 0, (int)piece.Length);
            }
        }
    }

    /// <summary>One buffer, grown to the largest new tensor, that every lazy tensor computes into in turn.</summary>
    private sealed class Scratch
    {
        private byte[] _buffer = [];

        public byte[] Get(int length)
        {
            if (_buffer.Length < length)
            {
                _buffer = new byte[length];
            }

            return _buffer;
        }
    }

    /// <summary>
    /// The bytes of a new tensor, computed when the serialiser asks for them (the span is valid until
    /// the next lazy tensor is asked for; Google.Protobuf copies it out at once). Its length is known
    /// without computing anything, so message sizes are computed for free.
    /// </summary>
    private sealed class LazyBytes(TensorData data, DT type, int length, Scratch scratch) : MemoryManager<byte>
    {
        public override Memory<byte> Memory => CreateMemory(length);

        public override Span<byte> GetSpan()
        {
            var span = scratch.Get(length).AsSpan(0, length);
            Encode(data, type, span);
            return span;
        }

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("lazy tensor bytes are not pinned.");

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
