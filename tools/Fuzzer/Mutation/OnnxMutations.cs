using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;

namespace NeuralBuild.Fuzzer.Mutation;

/// <summary>
/// Structure-aware ONNX damage, edited on the parsed ModelProto and serialised again, so the file
/// is valid protobuf and the damage reaches the graph builder and the passes, not only the parser.
/// </summary>
public static class OnnxMutations
{
    public static IReadOnlyList<FileMutation> All { get; } =
    [
        DropNodeInput, EmptyInputName, AttributeType, InitializerDims, InitializerData, BatchNormLengths, SwapNodes, AddCycle,
        DuplicateOutput, UnknownOp, Opset, GraphInputDims, DataType, ExternalData, DropInitializer,
    ];

    private static readonly long[] ExtremeDims = [0, -1, 1, 2, 1 << 20, int.MaxValue, long.MaxValue, long.MinValue];

    public static Mutated DropNodeInput(byte[] bytes, Rng rng) => OnNode(bytes, rng, n => n.Input.Count > 0, (_, n) =>
    {
        var i = rng.Below(n.Input.Count);
        var name = n.Input[i];
        n.Input.RemoveAt(i);
        return $"input {i} ('{name}') of node '{n.Name}' ({n.OpType}) removed";
    });

    public static Mutated EmptyInputName(byte[] bytes, Rng rng) => OnNode(bytes, rng, n => n.Input.Count > 0, (_, n) =>
    {
        var i = rng.Below(n.Input.Count);
        var name = n.Input[i];
        n.Input[i] = rng.Chance(0.7) ? string.Empty : "nowhere";
        return $"input {i} ('{name}') of node '{n.Name}' ({n.OpType}) renamed to '{n.Input[i]}'";
    });

    public static Mutated AttributeType(byte[] bytes, Rng rng) => OnNode(bytes, rng, n => n.Attribute.Count > 0, (_, n) =>
    {
        var attribute = rng.Pick(n.Attribute);
        var before = attribute.Type;
        var types = Enum.GetValues<AttributeProto.Types.AttributeType>();
        attribute.Type = rng.Chance(0.8) ? rng.Pick(types) : (AttributeProto.Types.AttributeType)rng.Pick([99, -1]);
        if (rng.Chance(0.5))
        {
            // The value moved to the field of the new type too, as a converter with a bug would write it.
            attribute.Ints.Clear();
            attribute.I = rng.Pick(ExtremeDims);
        }

        return $"attribute '{attribute.Name}' of node '{n.Name}' type {before} -> {attribute.Type}";
    });

    public static Mutated InitializerDims(byte[] bytes, Rng rng) => OnInitializer(bytes, rng, t => true, (_, t) =>
    {
        var before = string.Join('x', t.Dims);
        switch (rng.Below(3))
        {
            case 0 when t.Dims.Count > 0:
                t.Dims[rng.Below(t.Dims.Count)] = rng.Pick(ExtremeDims);
                break;
            case 1 when t.Dims.Count > 0:
                t.Dims.RemoveAt(rng.Below(t.Dims.Count));
                break;
            default:
                t.Dims.Add(rng.Pick(ExtremeDims));
                break;
        }

        return $"initializer '{t.Name}' dims {before} -> {string.Join('x', t.Dims)}";
    });

    public static Mutated InitializerData(byte[] bytes, Rng rng) => OnInitializer(bytes, rng, t => true, (_, t) =>
    {
        var before = t.RawData.Length;
        var cut = rng.Chance(0.5);
        t.RawData = cut ? ByteString.CopyFrom(t.RawData.Span[..rng.Below(Math.Max(1, t.RawData.Length))]) : ByteString.CopyFrom([.. t.RawData.Span, .. rng.Bytes(rng.Between(1, 64))]);
        if (rng.Chance(0.3))
        {
            t.FloatData.Add(1f);
        }

        return $"initializer '{t.Name}' raw data {before} -> {t.RawData.Length} bytes";
    });

    public static Mutated BatchNormLengths(byte[] bytes, Rng rng)
    {
        var model = Parse(bytes);
        var node = model?.Graph?.Node.FirstOrDefault(n => n.OpType == "BatchNormalization" && n.Input.Count == 5);
        if (model is null || node is null)
        {
            return InitializerData(bytes, rng);
        }

        var name = node.Input[rng.Between(1, 4)];
        var tensor = model.Graph.Initializer.FirstOrDefault(t => t.Name == name);
        if (tensor is null)
        {
            return InitializerDims(bytes, rng);
        }

        var count = rng.Pick([0, 1, 3, 5, 64]);
        tensor.Dims.Clear();
        tensor.Dims.Add(count);
        tensor.RawData = ByteString.CopyFrom(new byte[count * 4]);
        return new Mutated(model.ToByteArray(), $"BatchNormalization parameter '{name}' given {count} values");
    }

    public static Mutated SwapNodes(byte[] bytes, Rng rng) => OnGraph(bytes, rng, g => g.Node.Count > 1, g =>
    {
        var (a, b) = (rng.Below(g.Node.Count), rng.Below(g.Node.Count));
        (g.Node[a], g.Node[b]) = (g.Node[b], g.Node[a]);
        return $"nodes {a} and {b} swapped";
    });

    /// <summary>An early node reads the output of a later one (a loop through the graph).</summary>
    public static Mutated AddCycle(byte[] bytes, Rng rng) => OnGraph(bytes, rng, g => g.Node.Count > 0 && g.Node[^1].Output.Count > 0, g =>
    {
        var first = g.Node[rng.Below(g.Node.Count)];
        var later = g.Node[rng.Between(g.Node.IndexOf(first), g.Node.Count - 1)];
        if (first.Input.Count == 0)
        {
            first.Input.Add(later.Output[0]);
        }
        else
        {
            first.Input[0] = later.Output[0];
        }

        return $"node '{first.Name}' now reads '{later.Output[0]}' of node '{later.Name}'";
    });

    public static Mutated DuplicateOutput(byte[] bytes, Rng rng) => OnGraph(bytes, rng, g => g.Node.Count > 1, g =>
    {
        var a = g.Node[rng.Below(g.Node.Count)];
        var b = g.Node[rng.Below(g.Node.Count)];
        var name = rng.Chance(0.5) && g.Input.Count > 0 ? g.Input[0].Name : a.Output.FirstOrDefault() ?? "y";
        if (b.Output.Count == 0)
        {
            b.Output.Add(name);
        }
        else
        {
            b.Output[0] = name;
        }

        return $"node '{b.Name}' now also produces '{name}'";
    });

    public static Mutated UnknownOp(byte[] bytes, Rng rng) => OnNode(bytes, rng, _ => true, (_, n) =>
    {
        var before = n.OpType;
        n.OpType = rng.Pick(["", "NoSuchOp", "Conv", "BatchNormalization", "Gemm", "Add", "Concat", "Reshape", "Loop", "If", "Identity"]);
        if (rng.Chance(0.2))
        {
            n.Domain = rng.Pick(["com.microsoft", "ai.onnx.ml", "x"]);
        }

        return $"node '{n.Name}' op {before} -> {n.OpType} (domain '{n.Domain}')";
    });

    public static Mutated Opset(byte[] bytes, Rng rng)
    {
        var model = Parse(bytes);
        if (model is null)
        {
            return ByteMutations.FlipBits(bytes, rng);
        }

        var version = rng.Pick([0L, -1L, 1L, 6L, 7L, 9L, 10000L, long.MaxValue]);
        if (model.OpsetImport.Count == 0 || rng.Chance(0.2))
        {
            model.OpsetImport.Clear();
            return new Mutated(model.ToByteArray(), "opset imports removed");
        }

        model.OpsetImport[0].Version = version;
        model.IrVersion = rng.Chance(0.3) ? rng.Pick([0L, -1L, 100L]) : model.IrVersion;
        return new Mutated(model.ToByteArray(), $"opset {version}, IR version {model.IrVersion}");
    }

    public static Mutated GraphInputDims(byte[] bytes, Rng rng) => OnGraph(bytes, rng, g => g.Input.Count > 0, g =>
    {
        var input = g.Input[0];
        var shape = input.Type?.TensorType?.Shape;
        if (shape is null || shape.Dim.Count == 0 || rng.Chance(0.15))
        {
            input.Type = rng.Chance(0.5) ? null : new TypeProto();
            return $"graph input '{input.Name}' type removed";
        }

        var i = rng.Below(shape.Dim.Count);
        if (rng.Chance(0.2))
        {
            shape.Dim[i].DimParam = "N";
        }
        else if (rng.Chance(0.2))
        {
            shape.Dim.RemoveAt(i);
            return $"graph input '{input.Name}' dimension {i} removed";
        }
        else
        {
            shape.Dim[i].DimValue = rng.Pick(ExtremeDims);
        }

        return $"graph input '{input.Name}' dimension {i} -> {shape.Dim[i]}";
    });

    public static Mutated DataType(byte[] bytes, Rng rng) => OnInitializer(bytes, rng, _ => true, (_, t) =>
    {
        var before = t.DataType;
        t.DataType = rng.Pick([0, 2, 3, 6, 7, 8 /* string */, 10 /* float16 */, 11, 16, 99, -1]);
        return $"initializer '{t.Name}' data type {before} -> {t.DataType}";
    });

    /// <summary>Weights moved to external data that is missing, outside the folder, or a device.</summary>
    public static Mutated ExternalData(byte[] bytes, Rng rng) => OnInitializer(bytes, rng, _ => true, (_, t) =>
    {
        var location = rng.Pick(["missing.bin", "../outside.bin", "/dev/zero", "", "model.onnx", "/etc/hostname", "sub/../../x.bin"]);
        t.DataLocation = TensorProto.Types.DataLocation.External;
        t.RawData = ByteString.Empty;
        t.ExternalData.Clear();
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (rng.Chance(0.5))
        {
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = rng.Pick(["0", "-1", "9223372036854775807", "x"]) });
        }

        if (rng.Chance(0.5))
        {
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = rng.Pick(["0", "-1", "4", "9223372036854775807", "1099511627776"]) });
        }

        return $"initializer '{t.Name}' moved to external data: {t.ExternalData}";
    });

    public static Mutated DropInitializer(byte[] bytes, Rng rng) => OnGraph(bytes, rng, g => g.Initializer.Count > 0, g =>
    {
        var t = g.Initializer[rng.Below(g.Initializer.Count)];
        g.Initializer.Remove(t);
        return $"initializer '{t.Name}' removed";
    });

    private static ModelProto? Parse(byte[] bytes)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(bytes);
        }
#pragma warning disable CA1031 // Google.Protobuf 3.35 throws IndexOutOfRangeException on some damaged input; any failure means "not a model".
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private static Mutated OnGraph(byte[] bytes, Rng rng, Func<GraphProto, bool> eligible, Func<GraphProto, string> edit)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(rng);
        var model = Parse(bytes);
        if (model?.Graph is null || !eligible(model.Graph))
        {
            return ByteMutations.FlipBits(bytes, rng);
        }

        var what = edit(model.Graph);
        return new Mutated(model.ToByteArray(), what);
    }

    private static Mutated OnNode(byte[] bytes, Rng rng, Func<NodeProto, bool> eligible, Func<GraphProto, NodeProto, string> edit) =>
        OnGraph(bytes, rng, g => g.Node.Any(eligible), g => edit(g, rng.Pick(g.Node.Where(eligible).ToList())));

    private static Mutated OnInitializer(byte[] bytes, Rng rng, Func<TensorProto, bool> eligible, Func<GraphProto, TensorProto, string> edit) =>
        OnGraph(bytes, rng, g => g.Initializer.Any(eligible), g => edit(g, rng.Pick(g.Initializer.Where(eligible).ToList())));
}
