using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary><c>dotnet neural fuse model.onnx -o DIR</c> end to end, in its own process.</summary>
[TestClass]
public sealed class FuseCommandTests
{
    private static TensorProto Floats(string name, long[] dims, Func<int, float> value)
    {
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), value(i));
        }

        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = op.ToLowerInvariant() };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>x (1x3x8x8) → Conv 3→4 3x3 → BatchNormalization → Relu → Dropout → y.</summary>
    private static ModelProto Model()
    {
        var graph = new GraphProto { Name = "net" };
        graph.Node.Add(Node("Conv", ["x", "w"], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)));
        graph.Node.Add(Node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], "b"));
        graph.Node.Add(Node("Relu", ["b"], "r"));
        graph.Node.Add(Node("Dropout", ["r"], "y"));
        graph.Initializer.Add(Floats("w", [4, 3, 3, 3], i => ((i * 37 % 17) - 8) / 16f));
        graph.Initializer.Add(Floats("gamma", [4], i => 0.5f + (i * 0.25f)));
        graph.Initializer.Add(Floats("beta", [4], i => i - 1.5f));
        graph.Initializer.Add(Floats("mean", [4], i => (i * 0.1f) - 0.2f));
        graph.Initializer.Add(Floats("var", [4], i => 0.5f + i));
        graph.Input.Add(Value("x", 1, 3, 8, 8));
        graph.Output.Add(Value("y", 1, 4, 8, 8));
        var model = new ModelProto { IrVersion = 8, ProducerName = "tool tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    [TestMethod]
    public void Fuse_writes_the_onnx_model_without_batchnorm_and_dropout_and_reports_it()
    {
        using var temp = new TempDirectory();
        temp.Write("net.onnx", Model().ToByteArray());

        var run = ToolProcess.Run(temp.Path, ["fuse", "net.onnx", "-o", "out", "--verify", "model"]);

        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var written = Path.Combine(temp.Path, "out", "net.onnx");
        StringAssert.Contains(run.Stdout, $"written: {written}\n");
        StringAssert.Contains(run.Stdout, "- RemoveDropout: 1 at layers 3");
        StringAssert.Contains(run.Stdout, "- FoldBatchNorm: 1 at layers 1");
        StringAssert.Contains(run.Stdout, "layers removed: 1, 3");
        StringAssert.Contains(run.Stdout, "verification (Model");
        StringAssert.Contains(run.Stdout, "passed");
        Assert.AreEqual(run.Stdout, File.ReadAllText(Path.Combine(temp.Path, "out", "fuse-report.md")));

        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(written)).Graph;
        CollectionAssert.AreEqual(new[] { "Conv", "Relu" }, graph.Node.Select(n => n.OpType).ToArray());
        Assert.AreEqual("y", graph.Node[^1].Output.Single(), "the model output keeps its name");
        Assert.HasCount(3, graph.Node[0].Input, "the conv gained a bias");
        CollectionAssert.AreEquivalent(new[] { "conv/folded_weights", "conv/folded_bias" }, graph.Initializer.Select(i => i.Name).ToArray());
        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "net.onnx")), "the source stays");
    }
}
