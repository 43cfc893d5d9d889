using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Numerics;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// Reads a small ONNX model twice (the original and the one the passes rewrite), writes the
/// rewritten one, reads the written file back, and runs graphs on seeded random inputs.
/// </summary>
internal static class OnnxFoldHarness
{
    public sealed record Outcome(Model Original, Model Folded, Model Written, PassReport Report, string WrittenPath)
    {
        public IEnumerable<string> WrittenOps => ModelProto.Parser.ParseFrom(File.ReadAllBytes(WrittenPath)).Graph.Node.Select(n => n.OpType);

        public ModelProto WrittenProto => ModelProto.Parser.ParseFrom(File.ReadAllBytes(WrittenPath));

        public string Events => string.Join("\n", Report.Events);
    }

    public static Outcome FoldAndWrite(TempDirectory dir, ModelProto proto)
    {
        var path = dir.Combine("net.onnx");
        File.WriteAllBytes(path, Typed(proto, path).ToByteArray());
        var format = new OnnxFormat();
        var original = format.Read(path, new ModelReadOptions());
        var folded = format.Read(path, new ModelReadOptions());
        var report = PassManager.Run(folded.Graph);
        var written = Path.Combine(Directory.CreateDirectory(dir.Combine("out")).FullName, "net.onnx");
        format.Write(folded, written, written);
        return new Outcome(original, folded, format.Read(written, new ModelReadOptions()), report, written);
    }

    /// <summary>
    /// Gives the graph outputs that have none a type (float tensor of the shape our reader infers),
    /// as valid ONNX requires; TinyOnnx names them only. <paramref name="path"/> locates external data.
    /// </summary>
    public static ModelProto Typed(ModelProto proto, string path = "tiny.onnx")
    {
        var untyped = proto.Graph.Output.Where(o => o.Type is null).ToList();
        if (untyped.Count > 0)
        {
            var shapes = ShapeInference.Run(new OnnxFormat().Read(path, proto, new ModelReadOptions()).Graph);
            foreach (var output in untyped)
            {
                output.Type = Value(output.Name, shapes[output.Name].Dims.ToArray()).Type;
            }
        }

        return proto;
    }

    /// <summary>BatchNormalization parameters for <paramref name="channels"/> channels: gamma, beta, mean, var (positive).</summary>
    public static TensorProto[] BatchNormParameters(string prefix, long channels, ulong seed) =>
    [
        Random(prefix + ".scale", seed, 0.5, 1.5, channels),
        Random(prefix + ".bias", seed + 1, -0.5, 0.5, channels),
        Random(prefix + ".mean", seed + 2, -0.5, 0.5, channels),
        Random(prefix + ".var", seed + 3, 0.25, 1.5, channels),
    ];

    public static NodeProto BatchNorm(string name, string input, string output, string prefix, float? epsilon = null)
    {
        var node = TinyOnnx.Node("BatchNormalization", name, [input, prefix + ".scale", prefix + ".bias", prefix + ".mean", prefix + ".var"], [output]);
        if (epsilon is { } e)
        {
            node.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = e });
        }

        return node;
    }

    public static Tensor RandomInput(Shape shape, ulong seed = 0x5EED)
    {
        var random = new SplitMix64(seed);
        var data = new float[shape.ElementCount];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)random.Uniform(-1, 1);
        }

        return new Tensor(shape, data);
    }

    /// <summary>Runs the model's graph on <paramref name="x"/> and returns its outputs, in order.</summary>
    public static Tensor[] Run(Model model, Tensor x)
    {
        var outputs = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [model.Graph.Inputs.Keys.Single()] = x });
        return [.. model.Graph.Outputs.Select(o => outputs[o])];
    }

    /// <summary>Asserts |actual - expected| &lt;= 1e-5 + 1e-4 |expected| everywhere; returns the largest absolute error.</summary>
    public static double AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.AreEqual(expected.Shape, actual.Shape, what);
        double worst = 0;
        for (var i = 0; i < expected.Data.Length; i++)
        {
            var error = Math.Abs((double)actual.Data[i] - expected.Data[i]);
            worst = Math.Max(worst, error);
            Assert.IsLessThanOrEqualTo(1e-5 + (1e-4 * Math.Abs(expected.Data[i])), error, $"{what}: element {i} is {actual.Data[i]}, expected {expected.Data[i]}");
        }

        return worst;
    }

    /// <summary>The float values of the initializer a written node reads at <paramref name="input"/>.</summary>
    public static float[] WrittenInput(Outcome outcome, string opType, int input)
    {
        var proto = outcome.WrittenProto;
        var name = proto.Graph.Node.Single(n => n.OpType == opType).Input[input];
        var tensor = proto.Graph.Initializer.Single(t => t.Name == name);
        var values = new float[tensor.RawData.Length / 4];
        Buffer.BlockCopy(tensor.RawData.ToByteArray(), 0, values, 0, tensor.RawData.Length);
        return values;
    }
}
