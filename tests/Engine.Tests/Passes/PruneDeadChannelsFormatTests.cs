using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using NeuralBuild.Engine.Execution;
using Tensor = NeuralBuild.Engine.Execution.Tensor;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Formats.Onnx;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Caffe.CaffeFixture;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Dead-channel pruning written as Caffe and ONNX: the files state the new channel counts, and the
/// written model computes what the original computes (the original run as read; the ONNX pair also
/// by ONNX Runtime, which checks the written file's shapes itself).
/// </summary>
[TestClass]
public sealed class PruneDeadChannelsFormatTests
{
    /// <summary>
    /// <see cref="Formats.Caffe.CaffeFixture.Tiny"/> with Scale gamma 0 on channels 1 and 3 (beta 0 on
    /// 1, 0.7 on 3): after the ReLU, channel 1 is 0 and channel 3 the constant 0.7, which the
    /// InnerProduct (not padded) takes into its bias.
    /// </summary>
    [TestMethod]
    public void Caffe_dead_channels_leave_the_conv_and_the_inner_product_and_num_output_follows()
    {
        using var temp = new TempDirectory();
        var net = TinyWeights();
        var scale = net.Layer.Single(l => l.Name == "scale1");
        scale.Blobs[0].Data[1] = 0;
        scale.Blobs[0].Data[3] = 0;
        scale.Blobs[1].Data[1] = 0;
        scale.Blobs[1].Data[3] = 0.7f;
        var prototxt = temp.WriteText("dead.prototxt", Tiny);
        var caffemodel = temp.Write("dead.caffemodel", net.ToByteArray());

        var result = Prune(prototxt, caffemodel, temp.Combine("out"));

        var conv = result.Passes.Pruning.Single(p => p.Node == "conv1");
        var fc = result.Passes.Pruning.Single(p => p.Node == "fc");
        Assert.AreEqual((2, 0), (conv.OutputChannelsRemoved, conv.InputChannelsRemoved));
        Assert.AreEqual((0, 2), (fc.OutputChannelsRemoved, fc.InputChannelsRemoved));
        // MACC by hand: conv 3x3x3 per output per channel on 8x8, 4 → 2 channels; the inner product 64 → 32 inputs x 5.
        Assert.AreEqual((27L * 64 * 4) + (64 * 5), result.Before.Totals.Macc);
        Assert.AreEqual((27L * 64 * 2) + (32 * 5), result.After.Totals.Macc);

        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        StringAssert.Contains(text, "num_output: 2 kernel_size: 3 pad: 1");
        StringAssert.Contains(text, "num_output: 5");
        var written = NetParameter.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedWeightsPath));
        CollectionAssert.AreEqual(new long[] { 2, 3, 3, 3 }, written.Layer.Single(l => l.Name == "conv1").Blobs[0].Shape.Dim.ToArray());
        CollectionAssert.AreEqual(new long[] { 5, 32 }, written.Layer.Single(l => l.Name == "fc").Blobs[0].Shape.Dim.ToArray());

        AssertSameOutputs(ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = caffemodel }),
            ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath }));
    }

    /// <summary>
    /// Three convs summed by one Eltwise (an Arithmetic chain of two nodes) into an InnerProduct.
    /// Channel 1 of every conv has zero filters, so the sum's channel 1 is the constant
    /// 0.5 + 0.25 - 1 = -0.25, which the InnerProduct takes into its bias: the channel leaves all three
    /// convs through both links of the chain, and the Eltwise line is written as it was.
    /// </summary>
    [TestMethod]
    public void Caffe_dead_channel_goes_through_a_three_input_eltwise()
    {
        const string Text = """
            name: "sum3"
            input: "data"
            input_shape { dim: 1 dim: 2 dim: 4 dim: 4 }
            layer { name: "a" type: "Convolution" bottom: "data" top: "a" convolution_param { num_output: 3 kernel_size: 1 } }
            layer { name: "b" type: "Convolution" bottom: "data" top: "b" convolution_param { num_output: 3 kernel_size: 1 } }
            layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 3 kernel_size: 1 } }
            layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" bottom: "c" top: "sum" eltwise_param { operation: SUM } }
            layer { name: "fc" type: "InnerProduct" bottom: "sum" top: "fc" inner_product_param { num_output: 2 } }

            """;
        using var temp = new TempDirectory();
        var net = new NetParameter { Name = "sum3" };
        var constants = new[] { 0.5f, 0.25f, -1f };
        for (var i = 0; i < 3; i++)
        {
            var weights = Blob(i + 1, 0, 3, 2, 1, 1);
            weights.Data[2] = 0; // channel 1: filter row (2, 3) of the (3, 2) weights
            weights.Data[3] = 0;
            var bias = Blob(i + 1, 1, 3);
            bias.Data[1] = constants[i];
            net.Layer.Add(Layer(((char)('a' + i)).ToString(), "Convolution", weights, bias));
        }

        net.Layer.Add(Layer("fc", "InnerProduct", Blob(4, 0, 2, 48), Blob(4, 1, 2)));
        var prototxt = temp.WriteText("sum3.prototxt", Text);
        var caffemodel = temp.Write("sum3.caffemodel", net.ToByteArray());

        var result = Prune(prototxt, caffemodel, temp.Combine("out"));

        foreach (var conv in new[] { "a", "b", "c" })
        {
            var pruned = result.Passes.Pruning.Single(p => p.Node == conv);
            Assert.AreEqual((1, 0), (pruned.OutputChannelsRemoved, pruned.InputChannelsRemoved), conv);
        }

        var fc = result.Passes.Pruning.Single(p => p.Node == "fc");
        Assert.AreEqual((0, 1), (fc.OutputChannelsRemoved, fc.InputChannelsRemoved));
        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        Assert.AreEqual(Text.Replace("num_output: 3", "num_output: 2", StringComparison.Ordinal), text);
        AssertSameOutputs(ModelFormats.Read(prototxt, new ModelReadOptions { WeightsPath = caffemodel }),
            ModelFormats.Read(result.OptimizedDefinitionPath, new ModelReadOptions { WeightsPath = result.OptimizedWeightsPath }));
    }

    /// <summary>
    /// x (1x3x8x8) → Conv A 3→4 3x3 pad 1 → BatchNormalization (scale 0 and bias 0 on channel 2) →
    /// Relu → a; a → depthwise Conv (group 4) 3x3 pad 1 → Relu → r; Concat(a, r) → Conv 1x1 8→5 → y.
    /// Channel 2 of a is 0; the depthwise conv turns it into its bias (the zero padding changes
    /// nothing), so channel 2 of r is relu(bias) and channel 6 of the concat goes into y's bias.
    /// </summary>
    [TestMethod]
    public void Onnx_dead_channel_goes_through_depthwise_conv_and_concat_and_onnx_runtime_agrees()
    {
        using var temp = new TempDirectory();
        var scale = Random("bn.scale", 1, 0.5, 1.5, 4);
        var bias = Random("bn.bias", 2, -0.5, 0.5, 4);
        ZeroChannel(scale, 2);
        ZeroChannel(bias, 2);
        var model = Model(13,
        [
            Node("Conv", "convA", ["x", "wA", "bA"], ["cA"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
            Node("BatchNormalization", "bn", ["cA", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bnA"]),
            Node("Relu", "reluA", ["bnA"], ["a"]),
            Node("Conv", "dw", ["a", "wD", "bD"], ["cD"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 4)),
            Node("Relu", "reluD", ["cD"], ["r"]),
            Node("Concat", "cat", ["a", "r"], ["cat"], Int("axis", 1)),
            Node("Conv", "convY", ["cat", "wY", "bY"], ["y"], Ints("kernel_shape", 1, 1)),
        ],
        [
            Random("wA", 3, -0.5, 0.5, 4, 3, 3, 3), Random("bA", 4, -0.5, 0.5, 4),
            scale, bias, Random("bn.mean", 5, -0.2, 0.2, 4), Random("bn.var", 6, 0.5, 1.5, 4),
            Random("wD", 7, -0.5, 0.5, 4, 1, 3, 3), Random("bD", 8, 0.1, 0.5, 4),
            Random("wY", 9, -0.5, 0.5, 5, 8, 1, 1), Random("bY", 10, -0.5, 0.5, 5),
        ]);
        model.Graph.ValueInfo.Add(Value("a", [1, 4, 8, 8]));
        var path = temp.Combine("dead.onnx");
        File.WriteAllBytes(path, OnnxFoldHarness.Typed(model, path).ToByteArray());

        var result = Prune(path, path, temp.Combine("out"));

        var byNode = result.Passes.Pruning.ToDictionary(p => p.Node);
        Assert.AreEqual(1, byNode["convA"].OutputChannelsRemoved);
        Assert.AreEqual(1, byNode["dw"].OutputChannelsRemoved);
        Assert.AreEqual(2, byNode["convY"].InputChannelsRemoved);
        // MACC by hand on 8x8: convA 27 x 4 → 3 channels; depthwise 9 per channel, 4 → 3; convY 8 → 6 inputs x 5.
        Assert.AreEqual((27L * 4 * 64) + (9 * 4 * 64) + (8 * 5 * 64), result.Before.Totals.Macc);
        Assert.AreEqual((27L * 3 * 64) + (9 * 3 * 64) + (6 * 5 * 64), result.After.Totals.Macc);

        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedDefinitionPath));
        Assert.AreEqual(3, written.Graph.Node.Single(n => n.Name == "dw").Attribute.Single(a => a.Name == "group").I);
        Assert.IsFalse(written.Graph.ValueInfo.Any(v => v.Name == "a"), "the stale 4-channel value_info of 'a' is dropped");
        OnnxChecker.Check(result.OptimizedDefinitionPath);

        var input = OnnxFoldHarness.RandomInput(Shape.Nchw(1, 3, 8, 8));
        var expected = RunOnnxRuntime(path, input);
        var actual = RunOnnxRuntime(result.OptimizedDefinitionPath, input);
        var comparison = VerificationReport.Compare("onnxruntime", "y", Shape.Nchw(1, 5, 8, 8), actual, expected, 1e-5, 1e-4);
        Assert.IsTrue(comparison.Passed, $"max abs {comparison.MaxAbsoluteError}");
    }

    [TestMethod]
    public void Onnx_dead_channel_before_flatten_and_gemm_drops_its_columns()
    {
        using var temp = new TempDirectory();
        var weights = Random("wA", 3, -0.5, 0.5, 4, 3, 3, 3);
        ZeroChannel(weights, 1, 27);
        var model = Model(13,
        [
            Node("Conv", "convA", ["x", "wA", "bA"], ["cA"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
            Node("Relu", "reluA", ["cA"], ["a"]),
            Node("MaxPool", "pool", ["a"], ["p"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
            Node("Flatten", "flat", ["p"], ["f"], Int("axis", 1)),
            Node("Gemm", "fc", ["f", "wF", "bF"], ["y"], Int("transB", 1)),
        ],
        [weights, Values("bA", [4], 0.1f, 0.6f, -0.2f, 0.3f), Random("wF", 9, -0.5, 0.5, 5, 64), Random("bF", 10, -0.5, 0.5, 5)]);
        var path = temp.Combine("flat.onnx");
        File.WriteAllBytes(path, OnnxFoldHarness.Typed(model, path).ToByteArray());

        var result = Prune(path, path, temp.Combine("out"));

        // Channel 1 is relu(0.6) = 0.6 everywhere: its 16 columns leave the Gemm, their sum x 0.6 goes into its bias.
        Assert.AreEqual(1, result.Passes.Pruning.Single(p => p.Node == "convA").OutputChannelsRemoved);
        Assert.AreEqual(1, result.Passes.Pruning.Single(p => p.Node == "fc").InputChannelsRemoved);
        Assert.AreEqual((27L * 3 * 64) + (48 * 5), result.After.Totals.Macc);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.OptimizedDefinitionPath));
        var gemmWeights = written.Graph.Node.Single(n => n.OpType == "Gemm").Input[1];
        CollectionAssert.AreEqual(new long[] { 5, 48 }, written.Graph.Initializer.Single(t => t.Name == gemmWeights).Dims.ToArray());
        OnnxChecker.Check(result.OptimizedDefinitionPath);

        var input = OnnxFoldHarness.RandomInput(Shape.Nchw(1, 3, 8, 8));
        var comparison = VerificationReport.Compare("onnxruntime", "y", new Shape(1, 5), RunOnnxRuntime(result.OptimizedDefinitionPath, input), RunOnnxRuntime(path, input), 1e-5, 1e-4);
        Assert.IsTrue(comparison.Passed, $"max abs {comparison.MaxAbsoluteError}");
    }

    private static OptimizeResult Prune(string definition, string weights, string output) => ModelOptimizer.Optimize(new OptimizeRequest
    {
        DefinitionPath = definition,
        WeightsPath = weights,
        PruneDeadChannels = true,
        Verify = VerifyMode.Layers,
        OutputDirectory = output,
    });

    /// <summary>Sets <paramref name="count"/> values from channel <paramref name="channel"/> (blocks of <paramref name="count"/>) of a raw float tensor to 0.</summary>
    internal static void ZeroChannel(TensorProto tensor, int channel, int count = 1)
    {
        var bytes = tensor.RawData.ToByteArray();
        Array.Clear(bytes, channel * count * sizeof(float), count * sizeof(float));
        tensor.RawData = ByteString.CopyFrom(bytes);
    }

    internal static float[] RunOnnxRuntime(string path, Tensor input)
    {
        using var session = new InferenceSession(path);
        var tensor = new DenseTensor(input.Data, [.. input.Shape.Dims.Select(d => (int)d)]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), tensor)]);
        return [.. results.Single().AsEnumerable<float>()];
    }

    private static void AssertSameOutputs(Model original, Model written)
    {
        var input = OnnxFoldHarness.RandomInput(original.Graph.Inputs.Values.Single());
        var expected = OnnxFoldHarness.Run(original, input);
        var actual = OnnxFoldHarness.Run(written, input);
        for (var i = 0; i < expected.Length; i++)
        {
            OnnxFoldHarness.AssertClose(expected[i], actual[i], $"output {i}");
        }
    }
}
