using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

[TestClass]
public sealed class CaffeGraphBuilderTests
{
    private const string Body = """
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 1 } }
        """;

    private static Dictionary<string, Shape> Shapes(Model model) => ShapeInference.Run(model.Graph);

    private static Shape OutputOf(Model model, string layer)
    {
        var node = model.Graph.Nodes.Single(n => n.Name == layer);
        return Shapes(model)[node.Outputs[0]];
    }

    [TestMethod]
    [DataRow("input: \"data\"\ninput_dim: 10\ninput_dim: 3\ninput_dim: 5\ninput_dim: 7\n")]
    [DataRow("input: \"data\"\ninput_shape { dim: 10 dim: 3 dim: 5 dim: 7 }\n")]
    [DataRow("layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape: { dim: 10 dim: 3 dim: 5 dim: 7 } } }\n")]
    public void Inputs_in_every_spelling_are_read_with_batch_1(string declaration)
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(declaration + Body);
        Assert.AreEqual(new Shape(1, 3, 5, 7), model.Graph.Inputs["data"]);
        Assert.AreEqual(new Shape(1, 2, 5, 7), OutputOf(model, "conv"));
    }

    [TestMethod]
    public void An_explicit_input_shape_replaces_the_declared_one()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText("input: \"data\"\ninput_shape { dim: 10 dim: 3 dim: 5 dim: 7 }\n" + Body, input: "2x3x9x9");
        Assert.AreEqual(new Shape(2, 2, 9, 9), OutputOf(model, "conv"));
    }

    [TestMethod]
    [DataRow("input: \"data\"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 5\n", 2, 12, "NM0111")]
    [DataRow("input: \"data\"\ninput_shape { dim: 1 dim: 0 dim: 5 dim: 7 }\n", 2, 27, "NM0111")] // at the zero dim
    [DataRow("input: \"data\"\n", 1, 8, "NM0111")]
    [DataRow("input_dim: 1\n", 1, 12, "NM0111")]
    public void Bad_input_declarations_are_coded(string declaration, int line, int column, string code)
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => fixture.ReadText(declaration + Body));
        Assert.AreEqual(code, e.Code, e.ToString());
        Assert.AreEqual(line, e.Location.Line, e.ToString());
        Assert.AreEqual(column, e.Location.Column, e.ToString());
    }

    [TestMethod]
    public void A_net_without_input_is_NM0110()
    {
        using var fixture = new CaffeFixture();
        CaffeFixture.AssertAt(CaffeFixture.Throws(() => fixture.ReadText("name: \"empty\"\n")), DiagnosticCodes.CaffeNoInput, 1, 1);
    }

    [TestMethod]
    public void In_place_layers_get_renamed_values_and_are_marked_in_place()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(CaffeFixture.Tiny);
        var graph = model.Graph;
        var document = (CaffeModel)model.SourceDocument!;

        // SSA: every value is written once, although conv1 is written by four layers.
        var outputs = graph.Nodes.SelectMany(n => n.Outputs).ToList();
        Assert.AreEqual(outputs.Count, outputs.Distinct(StringComparer.Ordinal).Count());

        var bn = graph.Nodes.Single(n => n.Name == "bn1");
        var scale = graph.Nodes.Single(n => n.Name == "scale1");
        var relu = graph.Nodes.Single(n => n.Name == "relu1");
        Assert.IsFalse(graph.Nodes.Single(n => n.Name == "conv1").InPlace);
        Assert.IsTrue(bn.InPlace && scale.InPlace && relu.InPlace);
        Assert.AreEqual("conv1", bn.Inputs[0]);
        Assert.AreEqual(bn.Outputs[0], scale.Inputs[0]);
        Assert.AreEqual(scale.Outputs[0], relu.Inputs[0]);
        Assert.AreEqual(relu.Outputs[0], graph.Nodes.Single(n => n.Name == "pool1").Inputs[0]);
        foreach (var value in new[] { "conv1", bn.Outputs[0], scale.Outputs[0], relu.Outputs[0] })
        {
            Assert.AreEqual("conv1", document.BlobOfValue[value]);
        }

        CollectionAssert.AreEqual(new[] { "prob" }, graph.Outputs.ToArray());
    }

    [TestMethod]
    public void In_place_chains_cost_no_extra_activation_memory()
    {
        using var fixture = new CaffeFixture();
        var report = CostModel.Analyze(fixture.ReadText(CaffeFixture.Tiny));

        // Live at once, at most: data (3x8x8) + conv1 (4x8x8) while conv1 runs, then conv1 + pool1
        // (4x4x4) while pooling; BN, Scale and ReLU write into conv1's buffer.
        Assert.AreEqual(((4 * 8 * 8) + (3 * 8 * 8)) * 4L, report.PeakActivationBytes);
        Assert.AreEqual(0L, report.Layers.Single(l => l.Name == "relu1").Cost.ActivationBytes);
    }

    [TestMethod]
    public void Tiny_net_has_the_hand_counted_shapes_parameters_and_macc()
    {
        using var fixture = new CaffeFixture();
        var report = CostModel.Analyze(fixture.ReadText(CaffeFixture.Tiny));
        Assert.AreEqual("1x4x8x8", report.Layers.Single(l => l.Name == "conv1").OutputShape);
        Assert.AreEqual("1x4x4x4", report.Layers.Single(l => l.Name == "pool1").OutputShape);
        Assert.AreEqual("1x5", report.Layers.Single(l => l.Name == "fc").OutputShape);

        // conv 4*3*3*3 = 108 (no bias), BN mean+var 8, Scale 8, FC 64*5 + 5.
        Assert.AreEqual(108L + 8 + 8 + 325, report.Totals.Params);
        Assert.AreEqual((108L * 64) + 320, report.Totals.Macc);
    }

    [TestMethod]
    public void Phase_rules_keep_the_TEST_network()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText("""
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
            layer { name: "train_only" type: "Data" top: "data" include { phase: TRAIN } }
            layer { name: "a" type: "ReLU" bottom: "data" top: "a" include { phase: TEST } }
            layer { name: "b" type: "ReLU" bottom: "a" top: "b" exclude { phase: TEST } }
            layer { name: "c" type: "ReLU" bottom: "a" top: "c" exclude { phase: TRAIN } }
            layer { name: "d" type: "ReLU" bottom: "c" top: "d" include { stage: "deploy-extra" } }
            layer { name: "e" type: "ReLU" bottom: "c" top: "e" include { min_level: 1 } }
            layer { name: "f" type: "SoftmaxWithLoss" bottom: "c" top: "f" include { phase: TRAIN } }
            """);
        CollectionAssert.AreEqual(new[] { "a", "c" }, model.Graph.Nodes.Select(n => n.Name).ToArray());
        Assert.AreEqual(2, model.LayerCount);
    }

    [TestMethod]
    public void A_bottom_nobody_produces_is_NM0113_at_the_bottom()
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => fixture.ReadText("""
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
            layer {
              name: "relu"
              type: "ReLU"
              bottom: "Data"
              top: "relu"
            }
            """));
        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeUnknownBottom, 6, 11);
        StringAssert.Contains(e.Message, "layer 'relu' reads bottom 'Data'");
        StringAssert.Contains(e.Message, "did you mean 'data'");
    }

    [TestMethod]
    public void Unknown_layer_types_are_unsupported_not_malformed()
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => fixture.ReadText("input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 4 dim: 4 }\nlayer { name: \"x\" type: \"ShuffleChannel\" bottom: \"data\" top: \"x\" }\n"));
        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeUnsupportedLayer, 3, 25);
        StringAssert.Contains(e.Message, "'ShuffleChannel'");

        var data = CaffeFixture.Throws(() => fixture.ReadText("layer { name: \"d\" type: \"Data\" top: \"data\" }\n"));
        Assert.AreEqual(DiagnosticCodes.CaffeUnsupportedLayer.Code, data.Code);
        StringAssert.Contains(data.Message, "deploy prototxt");
    }

    [TestMethod]
    [DataRow("layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"data2\" }\nlayer { name: \"s\" type: \"ReLU\" bottom: \"data\" top: \"data2\" }", "NM0114", 5, 52)]
    [DataRow("layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"a\" }\nlayer { name: \"r\" type: \"ReLU\" bottom: \"a\" top: \"b\" }", "NM0112", 5, 1)]
    [DataRow("layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { kernel_size: 1 } }", "NM0115", 4, 63)]
    [DataRow("layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 1 group: 2 } }", "NM0115", 4, 119)]
    [DataRow("layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 1 kernel_size: 1 kernel_size: 1 } }", "NM0117", 4, 110)]
    [DataRow("layer { name: \"f\" type: \"InnerProduct\" bottom: \"data\" top: \"f\" inner_product_param { num_output: 4 axis: 2 } }", "NM0117", 4, 106)]
    [DataRow("layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" pooling_param { pool: STOCHASTIC kernel_size: 2 } }", "NM0117", 4, 81)]
    [DataRow("layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" pooling_param { pool: MAX kernel_size: 2 pad: 2 } }", "NM0115", 4, 105)]
    [DataRow("layer { name: \"e\" type: \"Eltwise\" bottom: \"data\" bottom: \"data\" top: \"e\" eltwise_param { operation: MAX coeff: 1 coeff: 2 } }", "NM0115", 4, 112)]
    [DataRow("layer { name: \"s\" type: \"Scale\" bottom: \"data\" bottom: \"data\" top: \"s\" }", "NM0117", 4, 56)]
    public void Layer_problems_are_coded_at_the_offending_place(string layers, string code, int line, int column)
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => fixture.ReadText("name: \"n\"\ninput: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 4 dim: 4 }\n" + layers));
        Assert.AreEqual(code, e.Code, e.ToString());
        Assert.AreEqual(line, e.Location.Line, e.ToString());
        Assert.AreEqual(column, e.Location.Column, e.ToString());
    }

    [TestMethod]
    [DataRow(8, 3, 2, 0, 4)] // ceil((8-3)/2)+1 = 4 (floor would give 3)
    [DataRow(6, 3, 2, 1, 4)] // ceil((6+2-3)/2)+1 = 4; last window starts at 6 < 6+1: kept
    [DataRow(5, 2, 2, 1, 3)] // ceil((5+2-2)/2)+1 = 4; last window would start at 6 >= 5+1: clipped to 3
    [DataRow(7, 3, 2, 0, 3)] // exact: (7-3)/2+1 = 3
    [DataRow(13, 3, 2, 0, 6)] // AlexNet pool5: ceil(10/2)+1 = 6
    public void Caffe_pooling_rounds_up_and_clips_windows_starting_in_the_padding(int input, int kernel, int stride, int pad, int expected)
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText($$"""
            input: "data"
            input_shape { dim: 1 dim: 2 dim: {{input}} dim: {{input}} }
            layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: AVE kernel_size: {{kernel}} stride: {{stride}} pad: {{pad}} } }
            layer { name: "q" type: "Pooling" bottom: "data" top: "q" pooling_param { pool: MAX kernel_size: {{kernel}} stride: {{stride}} pad: {{pad}} round_mode: FLOOR } }
            """);
        Assert.AreEqual(new Shape(1, 2, expected, expected), OutputOf(model, "p"));
        var floor = ((input + (2 * pad) - kernel) / stride) + 1;
        Assert.AreEqual(new Shape(1, 2, floor, floor), OutputOf(model, "q"));
    }

    [TestMethod]
    public void Shape_layers_follow_Caffe()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText("""
            input: "data"
            input_shape { dim: 1 dim: 6 dim: 4 dim: 5 }
            layer { name: "slice" type: "Slice" bottom: "data" top: "s1" top: "s2" top: "s3" slice_param { axis: 1 slice_point: 1 slice_point: 4 } }
            layer { name: "split" type: "Split" bottom: "s2" top: "t1" top: "t2" }
            layer { name: "sum" type: "Eltwise" bottom: "t1" bottom: "t2" top: "sum" eltwise_param { operation: SUM coeff: 1 coeff: -1 } }
            layer { name: "perm" type: "Permute" bottom: "sum" top: "perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
            layer { name: "flat" type: "Flatten" bottom: "perm" top: "flat" }
            layer { name: "resh" type: "Reshape" bottom: "flat" top: "resh" reshape_param { shape { dim: 0 dim: -1 dim: 3 } } }
            layer { name: "cat" type: "Concat" bottom: "s1" bottom: "s3" top: "cat" }
            layer { name: "deconv" type: "Deconvolution" bottom: "cat" top: "up" convolution_param { num_output: 2 kernel_size: 4 stride: 2 pad: 1 bias_term: false } }
            layer { name: "prelu" type: "PReLU" bottom: "up" top: "up" }
            layer { name: "power" type: "Power" bottom: "up" top: "pw" power_param { power: 2 scale: 0.5 } }
            layer { name: "drop" type: "Dropout" bottom: "resh" top: "resh" }
            layer { name: "ip" type: "InnerProduct" bottom: "resh" top: "ip" inner_product_param { num_output: 3 transpose: true } }
            """);
        Assert.AreEqual(new Shape(1, 1, 4, 5), Shapes(model)["s1"]);
        Assert.AreEqual(new Shape(1, 3, 4, 5), Shapes(model)["s2"]);
        Assert.AreEqual(new Shape(1, 2, 4, 5), Shapes(model)["s3"]);
        Assert.AreEqual(new Shape(1, 3, 4, 5), Shapes(model)["t2"]);
        Assert.AreEqual(new Shape(1, 4, 5, 3), OutputOf(model, "perm"));
        Assert.AreEqual(new Shape(1, 60), OutputOf(model, "flat"));
        Assert.AreEqual(new Shape(1, 20, 3), OutputOf(model, "resh"));
        Assert.AreEqual(new Shape(1, 3, 4, 5), OutputOf(model, "cat"));

        // Deconvolution: 2*(4-1) + 4 - 2*1 = 8.
        Assert.AreEqual(new Shape(1, 2, 8, 10), OutputOf(model, "deconv"));
        Assert.AreEqual(new Shape(1, 3), OutputOf(model, "ip"));

        var report = CostModel.Analyze(model);
        Assert.AreEqual(2L, report.Layers.Single(l => l.Name == "prelu").Cost.Params); // one slope per channel
        Assert.AreEqual((60L * 3) + 3, report.Layers.Single(l => l.Name == "ip").Cost.Params);
        Assert.AreEqual(4L * 4 * 2 * 4 * 5 * 3, report.Layers.Single(l => l.Name == "deconv").Cost.Macc); // kh*kw*Cout*Hin*Win*Cin

        // SUM with coefficients 1 and -1: one add plus one multiply (for -1) per element.
        Assert.AreEqual(2L * 3 * 4 * 5, report.Layers.Single(l => l.Name == "sum").Cost.Secondary.Elementwise);
        Assert.IsTrue(model.Graph.Nodes.Single(n => n.Name == "split").InPlace);
        Assert.AreEqual(0L, report.Layers.Single(l => l.Name == "split").Cost.MemoryAccess);
    }

    [TestMethod]
    public void Legacy_V1_layers_are_upgraded()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText("""
            name: "v1"
            input: "data"
            input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
            layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 convolution_param { num_output: 4 kernel_size: 3 } }
            layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
            layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
            layers { name: "fc" type: INNER_PRODUCT bottom: "pool1" top: "fc" inner_product_param { num_output: 10 } }
            """);
        CollectionAssert.AreEqual(new[] { "Conv", "Activation", "AveragePool", "FullyConnected" }, model.Graph.Nodes.Select(n => n.OpType).ToArray());
        Assert.AreEqual(new Shape(1, 10), OutputOf(model, "fc"));

        var e = CaffeFixture.Throws(() => fixture.ReadText("layers { name: \"c\" type: CONVOLUTION }\nlayer { name: \"d\" }\n"));
        Assert.AreEqual(DiagnosticCodes.PrototxtSyntax.Code, e.Code);
    }

    [TestMethod]
    public void Layers_are_located_at_their_line()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(CaffeFixture.Tiny);
        var pool = model.Graph.Nodes.Single(n => n.Name == "pool1");
        Assert.AreEqual(14, pool.Origin.Location.Line);
        Assert.AreEqual("Pooling", pool.Origin.Kind);
        Assert.AreEqual("ceil_caffe", pool.Attributes.String("rounding"));
    }
}
