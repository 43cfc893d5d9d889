using Google.Protobuf;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// Small ONNX models built with the generated protobuf classes (nothing binary is committed). One
/// file for every test project that needs them: Tool.Tests and Integration.Tests link it.
/// </summary>
internal static class TinyOnnx
{
    public static ModelProto Model(long opset, IEnumerable<NodeProto> nodes, IEnumerable<TensorProto>? initializers = null, string input = "x", long[]? inputDims = null, params string[] outputs)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers ?? []);
        graph.Input.Add(Value(input, inputDims ?? [1, 3, 8, 8]));
        foreach (var output in outputs.Length == 0 ? ["y"] : outputs)
        {
            graph.Output.Add(new ValueInfoProto { Name = output });
        }

        var model = new ModelProto { IrVersion = 8, ProducerName = "NeuralBuild tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }

    public static ValueInfoProto Value(string name, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static NodeProto Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    /// <summary>A float tensor stored as raw_data, values 0, 1, 2, … (scaled).</summary>
    public static TensorProto Floats(string name, params long[] dims)
    {
        var count = dims.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), (float)(i * 0.01));
        }

        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    /// <summary>Uniform values in [low, high) from SplitMix64(seed), stored as raw_data.</summary>
    public static TensorProto Random(string name, ulong seed, double low, double high, params long[] dims)
    {
        var random = new SplitMix64(seed);
        var count = dims.Aggregate(1L, (a, b) => a * b);
        return Values(name, dims, [.. Enumerable.Range(0, (int)count).Select(_ => (float)random.Uniform(low, high))]);
    }

    public static TensorProto Values(string name, long[] dims, params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    /// <summary>An int64 tensor stored in int64_data.</summary>
    public static TensorProto Int64Matrix(string name, long[] dims, params long[] values)
    {
        var tensor = Int64s(name, values);
        tensor.Dims.Clear();
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    public static TensorProto Int64s(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        return t;
    }

    public static Model Read(ModelProto model, string path = "tiny.onnx", Shape? input = null) =>
        new OnnxFormat().Read(path, model, new ModelReadOptions { InputShape = input });

    /// <summary>x (1x3x8x8) → Conv 3→4 3x3 with the given attributes → y.</summary>
    public static ModelProto Conv(long opset = 13, params AttributeProto[] attributes) =>
        Model(opset, [Node("Conv", "conv", ["x", "w"], ["y"], attributes)], [Floats("w", 4, 3, 3, 3)]);
}
