using Google.Protobuf;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Passes;
using static NeuralBuild.Engine.Tests.Formats.Caffe.CaffeFixture;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

[TestClass]
public sealed class CaffeWriterTests
{
    private static string OutDir(CaffeFixture fixture) => Path.GetDirectoryName(fixture.Write("probe.txt", string.Empty))!;

    [TestMethod]
    public void Without_passes_the_prototxt_and_caffemodel_come_back_byte_for_byte()
    {
        using var fixture = new CaffeFixture();
        var bytes = TinyWeights().ToByteArray();
        var model = Read(fixture.Write("tiny.prototxt", Tiny), fixture.Write("tiny.caffemodel", bytes));
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);

        ModelFormats.ForPath("x.prototxt").Write(model, Path.Combine(dir, "tiny.prototxt"), Path.Combine(dir, "tiny.caffemodel"));

        Assert.AreEqual(Tiny, File.ReadAllText(Path.Combine(dir, "tiny.prototxt")));
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(Path.Combine(dir, "tiny.caffemodel")));
    }

    [TestMethod]
    public void Folded_batchnorm_and_scale_lines_disappear_and_the_conv_gains_its_bias()
    {
        using var fixture = new CaffeFixture();
        var model = Read(fixture.Write("tiny.prototxt", Tiny), fixture.Write("tiny.caffemodel", TinyWeights().ToByteArray()));
        PassManager.Run(model.Graph);
        var conv = model.Graph.Nodes.Single(n => n.Name == "conv1");
        var expectedWeights = model.Graph.Initializers[conv.Inputs[1]].Data!.ToArray();
        var expectedBias = model.Graph.Initializers[conv.Inputs[2]].Data!.ToArray();
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);

        ModelFormats.ForPath("x.prototxt").Write(model, Path.Combine(dir, "tiny.prototxt"), Path.Combine(dir, "tiny.caffemodel"));

        var expectedText = Tiny
            .Replace("bias_term: false", "bias_term: true", StringComparison.Ordinal)
            .Replace("layer { name: \"bn1\" type: \"BatchNorm\" bottom: \"conv1\" top: \"conv1\" batch_norm_param { eps: 0.001 } }\n", string.Empty, StringComparison.Ordinal)
            .Replace("layer { name: \"scale1\" type: \"Scale\" bottom: \"conv1\" top: \"conv1\" scale_param { bias_term: true } }\n", string.Empty, StringComparison.Ordinal);
        Assert.AreEqual(expectedText, File.ReadAllText(Path.Combine(dir, "tiny.prototxt")));

        var written = NetParameter.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "tiny.caffemodel")));
        CollectionAssert.AreEqual(new[] { "data", "conv1", "relu1", "fc", "loss" }, written.Layer.Select(l => l.Name).ToArray());
        var convLayer = written.Layer.Single(l => l.Name == "conv1");
        Assert.HasCount(2, convLayer.Blobs);
        CollectionAssert.AreEqual(expectedWeights, convLayer.Blobs[0].Data.ToArray());
        CollectionAssert.AreEqual(expectedBias, convLayer.Blobs[1].Data.ToArray());
        CollectionAssert.AreEqual(new long[] { 4 }, convLayer.Blobs[1].Shape.Dim.ToArray());
        Assert.AreEqual(TinyWeights().Layer.Single(l => l.Name == "fc"), written.Layer.Single(l => l.Name == "fc"), "untouched layers are kept as they were");

        var reread = Read(Path.Combine(dir, "tiny.prototxt"), Path.Combine(dir, "tiny.caffemodel"));
        Assert.IsFalse(reread.Graph.Nodes.Any(n => n.OpType is "BatchNormalization" or "ChannelAffine"));
    }

    [TestMethod]
    public void Bottoms_that_read_a_removed_layer_are_renamed_to_the_blob_that_replaced_it()
    {
        // BatchNorm and Scale not in place: relu reads "sc", which becomes "conv" after the fold.
        const string Text = """
            name: "chain"
            input: "data"
            input_shape { dim: 1 dim: 1 dim: 2 dim: 2 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 bias_term: false } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "bn" }
            layer { name: "sc" type: "Scale" bottom: "bn" top: "sc" scale_param { bias_term: true } }
            layer { name: "relu" type: "ReLU" bottom: "sc" top: "relu" }
            """;
        var weights = new NetParameter { Name = "chain" };
        weights.Layer.Add(Layer("conv", "Convolution", Blob(1, 0, 2, 1, 1, 1)));
        weights.Layer.Add(Layer("bn", "BatchNorm", Blob(2, 0, 2), Constant(1f, 2), Constant(1f, 1)));
        weights.Layer.Add(Layer("sc", "Scale", Blob(3, 0, 2), Blob(3, 1, 2)));
        using var fixture = new CaffeFixture();
        var model = Read(fixture.Write("chain.prototxt", Text), fixture.Write("chain.caffemodel", weights.ToByteArray()));
        PassManager.Run(model.Graph);
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);

        ModelFormats.ForPath("x.prototxt").Write(model, Path.Combine(dir, "chain.prototxt"), Path.Combine(dir, "chain.caffemodel"));

        var expected = """
            name: "chain"
            input: "data"
            input_shape { dim: 1 dim: 1 dim: 2 dim: 2 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 bias_term: true } }
            layer { name: "relu" type: "ReLU" bottom: "conv" top: "relu" }
            """;
        Assert.AreEqual(expected, File.ReadAllText(Path.Combine(dir, "chain.prototxt")));
    }

    [TestMethod]
    public void Unknown_fields_of_the_caffemodel_survive_a_fold()
    {
        // Field 9999 (varint 42) on the fc layer and field 500 (a string) on the net are not in caffe.proto.
        var net = TinyWeights();
        var fc = net.Layer.Single(l => l.Name == "fc");
        var fcBytes = fc.ToByteArray().Concat(new byte[] { 0xF8, 0xF0, 0x04, 42 }).ToArray(); // tag (9999 << 3) | 0 as a varint, then 42
        net.Layer[net.Layer.IndexOf(fc)] = LayerParameter.Parser.ParseFrom(fcBytes);
        var netBytes = net.ToByteArray().Concat(new byte[] { 0xA2, 0x1F, 4, (byte)'k', (byte)'e', (byte)'p', (byte)'t' }).ToArray(); // (500 << 3) | 2
        using var fixture = new CaffeFixture();
        var model = Read(fixture.Write("tiny.prototxt", Tiny), fixture.Write("tiny.caffemodel", netBytes));
        PassManager.Run(model.Graph);
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);

        ModelFormats.ForPath("x.prototxt").Write(model, Path.Combine(dir, "tiny.prototxt"), Path.Combine(dir, "tiny.caffemodel"));

        var written = File.ReadAllBytes(Path.Combine(dir, "tiny.caffemodel"));
        var reparsed = NetParameter.Parser.ParseFrom(written);
        Assert.AreEqual(LayerParameter.Parser.ParseFrom(fcBytes), reparsed.Layer.Single(l => l.Name == "fc"), "the fc layer keeps its unknown field");
        CollectionAssert.AreEqual(new byte[] { 0xA2, 0x1F, 4, (byte)'k', (byte)'e', (byte)'p', (byte)'t' }, written[^7..], "the net's unknown field is written last");
    }

    [TestMethod]
    public void Without_the_original_text_the_whole_prototxt_is_written_from_the_message()
    {
        // Read from a string under a path that does not exist: nothing to edit, so PrototxtWriter writes
        // the intended message, which parses to the network without bn1 and scale1.
        using var fixture = new CaffeFixture();
        var weights = fixture.Write("tiny.caffemodel", TinyWeights().ToByteArray());
        var missing = Path.Combine(OutDir(fixture), "nowhere", "tiny.prototxt");
        var model = new NeuralBuild.Engine.Formats.Caffe.CaffeFormat().Read(missing, Tiny, new ModelReadOptions { WeightsPath = weights });
        PassManager.Run(model.Graph);
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);

        ModelFormats.ForPath("x.prototxt").Write(model, Path.Combine(dir, "tiny.prototxt"), Path.Combine(dir, "tiny.caffemodel"));

        var written = NeuralBuild.Engine.Formats.Caffe.PrototxtReader.Parse<NetParameter>("w", File.ReadAllText(Path.Combine(dir, "tiny.prototxt")), out _);
        CollectionAssert.AreEqual(new[] { "conv1", "relu1", "pool1", "fc", "prob" }, written.Layer.Select(l => l.Name).ToArray());
        Assert.IsTrue(written.Layer[0].ConvolutionParam.BiasTerm);
        Assert.AreEqual(0.001f, NeuralBuild.Engine.Formats.Caffe.PrototxtReader.Parse<NetParameter>("t", Tiny, out _).Layer[1].BatchNormParam.Eps, "the source still has its BatchNorm");
    }

    [TestMethod]
    public void A_model_read_without_its_caffemodel_is_not_written()
    {
        using var fixture = new CaffeFixture();
        var model = Read(fixture.Write("tiny.prototxt", Tiny));
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);

        Assert.ThrowsExactly<NotSupportedException>(() => ModelFormats.ForPath("x.prototxt").Write(model, Path.Combine(dir, "tiny.prototxt"), Path.Combine(dir, "tiny.caffemodel")));
        Assert.IsEmpty(Directory.GetFiles(dir));
    }

    /// <summary>A legacy V1 net (<c>layers { type: CONVOLUTION }</c>) with its V1 caffemodel, the form old model zoos still ship.</summary>
    private const string V1Net = """
        name: "v1"
        input: "data"
        input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
        layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 convolution_param { num_output: 4 kernel_size: 3 } }
        layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
        layers { name: "drop1" type: DROPOUT bottom: "conv1" top: "drop1" dropout_param { dropout_ratio: 0.5 } }
        layers { name: "fc" type: INNER_PRODUCT bottom: "drop1" top: "fc" inner_product_param { num_output: 5 } }

        """;

    private static byte[] V1Weights()
    {
        static V1LayerParameter V1(string name, V1LayerParameter.Types.LayerType type, params BlobProto[] blobs)
        {
            var layer = new V1LayerParameter { Name = name, Type = type };
            layer.Blobs.AddRange(blobs);
            return layer;
        }

        var net = new NetParameter { Name = "v1" };
        net.Layers.Add(V1("conv1", V1LayerParameter.Types.LayerType.Convolution, Blob(1, 0, 4, 3, 3, 3), Blob(1, 1, 4)));
        net.Layers.Add(V1("relu1", V1LayerParameter.Types.LayerType.Relu));
        net.Layers.Add(V1("drop1", V1LayerParameter.Types.LayerType.Dropout));
        net.Layers.Add(V1("fc", V1LayerParameter.Types.LayerType.InnerProduct, Blob(2, 0, 5, 144), Blob(2, 1, 5)));
        return net.ToByteArray();
    }

    [TestMethod]
    public void A_V1_net_comes_back_byte_for_byte_and_keeps_its_V1_form_when_dropout_is_removed()
    {
        using var fixture = new CaffeFixture();
        var weights = V1Weights();
        var prototxt = fixture.Write("v1.prototxt", V1Net);
        var caffemodel = fixture.Write("v1.caffemodel", weights);
        var dir = Path.Combine(OutDir(fixture), "out");
        Directory.CreateDirectory(dir);
        var format = ModelFormats.ForPath("x.prototxt");

        format.Write(Read(prototxt, caffemodel), Path.Combine(dir, "same.prototxt"), Path.Combine(dir, "same.caffemodel"));
        Assert.AreEqual(V1Net, File.ReadAllText(Path.Combine(dir, "same.prototxt")));
        CollectionAssert.AreEqual(weights, File.ReadAllBytes(Path.Combine(dir, "same.caffemodel")));

        var model = Read(prototxt, caffemodel);
        var report = PassManager.Run(model.Graph);
        Assert.IsTrue(report.Applied.Any(a => a.Pass == "RemoveDropout"), string.Join("; ", report.Applied.Select(a => a.Pass)));
        format.Write(model, Path.Combine(dir, "v1.prototxt"), Path.Combine(dir, "v1.caffemodel"));

        // The dropout line goes and fc reads the blob dropout read; every other line stays as written.
        var expected = V1Net
            .Replace("layers { name: \"drop1\" type: DROPOUT bottom: \"conv1\" top: \"drop1\" dropout_param { dropout_ratio: 0.5 } }\n", string.Empty, StringComparison.Ordinal)
            .Replace("bottom: \"drop1\"", "bottom: \"conv1\"", StringComparison.Ordinal);
        Assert.AreEqual(expected, File.ReadAllText(Path.Combine(dir, "v1.prototxt")));
        var written = NetParameter.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "v1.caffemodel")));
        Assert.IsEmpty(written.Layer, "still a V1 caffemodel");
        CollectionAssert.AreEqual(new[] { "conv1", "relu1", "fc" }, written.Layers.Select(l => l.Name).ToArray());

        var original = Read(prototxt, caffemodel);
        var rewritten = Read(Path.Combine(dir, "v1.prototxt"), Path.Combine(dir, "v1.caffemodel"));
        var verification = NeuralBuild.Engine.Pipeline.Verifier.VerifyModels(original, rewritten, 1e-6, 1e-6);
        Assert.IsTrue(verification.Passed, verification.Summary());
        Assert.AreEqual(0, verification.MaxAbsoluteError, "removing dropout changes no arithmetic");
    }
}
