using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Passes.Surgery;
using static NeuralBuild.Engine.Tests.Formats.Caffe.CaffeFixture;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

/// <summary>
/// Caffe layers the reader lowers into several canonical nodes: an N-input or weighted Eltwise into
/// an Arithmetic chain, a Slice into one StridedSlice per top. Each is checked against Caffe's
/// arithmetic worked out in the test (eltwise_layer.cpp: SUM sets the top to 0 and adds coeff_i * x_i
/// in bottom order; PROD multiplies in bottom order; MAX keeps the larger), and the writer must give
/// back each such layer as the one layer it was.
/// </summary>
[TestClass]
public sealed class CaffeLoweringTests
{
    private const string ThreeInputs = """
        input: "a"
        input_shape { dim: 1 dim: 4 }
        input: "b"
        input_shape { dim: 1 dim: 4 }
        input: "c"
        input_shape { dim: 1 dim: 4 }

        """;

    private static readonly float[] s_a = [0.1f, -3f, 1e8f, 2f];
    private static readonly float[] s_b = [0.2f, 5f, -1e8f, -7f];
    private static readonly float[] s_c = [0.3f, 0.5f, 1f, 3f];

    private static float[] RunThree(Model model)
    {
        Tensor T(float[] v) => new(new Shape(1, 4), (float[])v.Clone());
        var outputs = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["a"] = T(s_a), ["b"] = T(s_b), ["c"] = T(s_c) });
        return outputs[model.Graph.Outputs.Single()].Data;
    }

    [TestMethod]
    public void A_weighted_sum_of_three_is_computed_in_Caffes_order()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(ThreeInputs + "layer { name: \"sum\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" bottom: \"c\" top: \"sum\" eltwise_param { operation: SUM coeff: 1 coeff: -0.5 coeff: 3 } }\n");

        // The weighted bottoms are scaled first; coefficient 1 costs no node.
        CollectionAssert.AreEqual(new[] { "sum/scaled1", "sum/partial1", "sum/scaled2", "sum" }, model.Graph.Nodes.Select(n => n.Name).ToArray());
        Assert.IsTrue(model.Graph.Nodes.All(n => n.OpType == "Arithmetic" && n.Origin.Lowered && n.Origin.Name == "sum"));

        // y = 0 + 1*a; y += -0.5*b; y += 3*c, each step rounded to float as Caffe's axpy does.
        var expected = new float[4];
        for (var i = 0; i < 4; i++)
        {
            var y = s_a[i];
            y += -0.5f * s_b[i];
            y += 3f * s_c[i];
            expected[i] = y;
        }

        CollectionAssert.AreEqual(expected, RunThree(model));

        // One report row; Caffe stores no blob for an Eltwise, so no parameters. Elementwise work:
        // (3 bottoms - 1) adds + 2 coefficients ≠ 1, per element of 1x4.
        var row = CostModel.Analyze(model).Layers.Single();
        Assert.AreEqual(0L, row.Cost.Params);
        Assert.AreEqual(0L, row.Cost.WeightsBytes);
        Assert.AreEqual((2L + 2) * 4, row.Cost.Secondary.Elementwise);
    }

    [TestMethod]
    [DataRow("PROD")]
    [DataRow("MAX")]
    public void Prod_and_max_of_three_chain_in_bottom_order(string operation)
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(ThreeInputs + $"layer {{ name: \"e\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" bottom: \"c\" top: \"e\" eltwise_param {{ operation: {operation} }} }}\n");

        Assert.HasCount(2, model.Graph.Nodes);
        var expected = operation == "PROD"
            ? [0.1f * 0.2f * 0.3f, -3f * 5f * 0.5f, 1e8f * -1e8f * 1f, 2f * -7f * 3f]
            : new[] { 0.3f, 5f, 1e8f, 3f };
        CollectionAssert.AreEqual(expected, RunThree(model));
    }

    [TestMethod]
    public void Two_unweighted_bottoms_stay_one_node_named_after_the_layer()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(ThreeInputs + "layer { name: \"sum\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" top: \"sum\" }\nlayer { name: \"keep\" type: \"Eltwise\" bottom: \"sum\" bottom: \"c\" top: \"keep\" }\n");
        CollectionAssert.AreEqual(new[] { "sum", "keep" }, model.Graph.Nodes.Select(n => n.Name).ToArray());
        Assert.IsFalse(model.Graph.Nodes.Any(n => n.Origin.Lowered));
    }

    [TestMethod]
    public void A_layer_that_reads_bottoms_but_makes_no_node_has_no_ports()
    {
        // Silence consumes the sum's top and computes nothing: no node, so nothing to write back but the layer.
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText(ThreeInputs + "layer { name: \"sum\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" bottom: \"c\" top: \"sum\" }\nlayer { name: \"quiet\" type: \"Silence\" bottom: \"sum\" }\n");
        var document = (NeuralBuild.Engine.Formats.Caffe.CaffeModel)model.SourceDocument!;
        var quiet = document.Layers.Single(l => l.Layer.Name == "quiet");
        Assert.IsEmpty(quiet.Nodes);
        Assert.IsEmpty(quiet.BottomPorts);
        var sum = document.Layers.Single(l => l.Layer.Name == "sum");
        CollectionAssert.AreEqual(new[] { ("sum/partial1", 0), ("sum/partial1", 1), ("sum", 1) }, sum.BottomPorts.ToArray());
    }

    [TestMethod]
    public void Bottoms_of_different_shapes_are_refused_at_the_bottom()
    {
        using var fixture = new CaffeFixture();
        var e = Throws(() => fixture.ReadText("input: \"a\"\ninput_shape { dim: 1 dim: 4 }\ninput: \"b\"\ninput_shape { dim: 1 dim: 1 }\n"
            + "layer { name: \"sum\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" top: \"sum\" }\n"));
        Assert.AreEqual(DiagnosticCodes.ShapeMismatch.Code, e.Code);
        StringAssert.Contains(e.Message, "bottom 1 is 1x1 but bottom 0 is 1x4");
    }

    [TestMethod]
    public void A_slice_is_one_strided_slice_per_top()
    {
        using var fixture = new CaffeFixture();
        var model = fixture.ReadText("""
            input: "x"
            input_shape { dim: 1 dim: 6 dim: 1 dim: 1 }
            layer { name: "cut" type: "Slice" bottom: "x" top: "p" top: "q" top: "r" slice_param { axis: 1 slice_point: 1 slice_point: 4 } }
            layer { name: "halves" type: "Slice" bottom: "x" top: "h1" top: "h2" slice_param { axis: -3 } }
            """);
        CollectionAssert.AreEqual(new[] { "cut", "cut/q", "cut/r", "halves", "halves/h2" }, model.Graph.Nodes.Select(n => n.Name).ToArray());
        Assert.IsTrue(model.Graph.Nodes.All(n => n.OpType == "StridedSlice" && n.Origin.Lowered));

        var x = new Tensor(new Shape(1, 6, 1, 1), [10, 11, 12, 13, 14, 15]);
        var y = new ReferenceExecutor(model.Graph).Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["x"] = x });

        // Slice points 1 and 4 cut channels [0,1), [1,4), [4,6); no points and two tops: [0,3), [3,6).
        CollectionAssert.AreEqual(new float[] { 10 }, y["p"].Data);
        CollectionAssert.AreEqual(new float[] { 11, 12, 13 }, y["q"].Data);
        CollectionAssert.AreEqual(new float[] { 14, 15 }, y["r"].Data);
        CollectionAssert.AreEqual(new float[] { 10, 11, 12 }, y["h1"].Data);
        CollectionAssert.AreEqual(new float[] { 13, 14, 15 }, y["h2"].Data);
    }

    [TestMethod]
    public void A_slice_into_unequal_parts_without_points_is_refused()
    {
        using var fixture = new CaffeFixture();
        var e = Throws(() => fixture.ReadText("input: \"x\"\ninput_shape { dim: 1 dim: 5 }\nlayer { name: \"s\" type: \"Slice\" bottom: \"x\" top: \"p\" top: \"q\" }\n"));
        Assert.AreEqual(DiagnosticCodes.CaffeInvalidParameter.Code, e.Code);
        StringAssert.Contains(e.Message, "5 entries, not divisible into 2 equal slices");
    }

    /// <summary>Dropout layers feed the lowered layers, so removing them renames bottoms of a Slice and a three-input Eltwise.</summary>
    private const string Lowered = """
        name: "lowered"
        input: "data"
        input_shape { dim: 1 dim: 1 dim: 2 dim: 2 }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 6 kernel_size: 1 } }
        layer { name: "drop" type: "Dropout" bottom: "conv" top: "dropped" }
        layer { name: "cut" type: "Slice" bottom: "dropped" top: "p" top: "q" top: "r" slice_param { axis: 1 slice_point: 2 slice_point: 4 } }
        layer { name: "drop2" type: "Dropout" bottom: "q" top: "q2" }
        layer { name: "sum" type: "Eltwise" bottom: "p" bottom: "q2" bottom: "r" top: "sum" eltwise_param { operation: SUM coeff: 2 coeff: 1 coeff: -1 } }

        """;

    [TestMethod]
    public void Fuse_writes_a_lowered_slice_and_eltwise_back_as_their_own_layers()
    {
        using var fixture = new CaffeFixture();
        var (prototxt, caffemodel, weights) = WriteLowered(fixture);
        var model = Read(prototxt, caffemodel);
        var format = ModelFormats.ForPath("x.prototxt");
        var report = PassManager.Run(model.Graph, writer: format.WriterContract);
        Assert.IsFalse(model.Graph.Nodes.Any(n => n.Origin.Kind == "Dropout"), string.Join("\n", report.Events));
        var dir = Path.Combine(Path.GetDirectoryName(prototxt)!, "out");
        Directory.CreateDirectory(dir);

        format.Write(model, Path.Combine(dir, "lowered.prototxt"), Path.Combine(dir, "lowered.caffemodel"));

        // The Slice and Eltwise lines are unchanged but for the bottoms that read a removed Dropout.
        var expected = Lowered
            .Replace("layer { name: \"drop\" type: \"Dropout\" bottom: \"conv\" top: \"dropped\" }\n", string.Empty, StringComparison.Ordinal)
            .Replace("layer { name: \"drop2\" type: \"Dropout\" bottom: \"q\" top: \"q2\" }\n", string.Empty, StringComparison.Ordinal)
            .Replace("bottom: \"dropped\"", "bottom: \"conv\"", StringComparison.Ordinal)
            .Replace("bottom: \"q2\"", "bottom: \"q\"", StringComparison.Ordinal);
        Assert.AreEqual(expected, File.ReadAllText(Path.Combine(dir, "lowered.prototxt")));
        var written = NetParameter.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "lowered.caffemodel")));
        Assert.AreEqual(weights.Layer.Single(), written.Layer.Single(l => l.Name == "conv"));

        var reread = Read(Path.Combine(dir, "lowered.prototxt"), Path.Combine(dir, "lowered.caffemodel"));
        CollectionAssert.AreEqual(
            model.Graph.Nodes.Select(n => (n.Name, n.OpType)).ToArray(),
            reread.Graph.Nodes.Select(n => (n.Name, n.OpType)).ToArray());
    }

    [TestMethod]
    public void A_fold_that_would_remove_one_node_of_a_lowered_layer_is_not_applied_for_the_Caffe_writer()
    {
        // conv → the coefficient 2 of bottom 0: FoldChannelMulAdd could fold that Mul into the conv,
        // but the Eltwise layer would lose one of its nodes, which the Caffe writer cannot write.
        using var fixture = new CaffeFixture();
        const string Text = """
            name: "weighted"
            input: "data"
            input_shape { dim: 1 dim: 6 dim: 2 dim: 2 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 6 kernel_size: 1 } }
            layer { name: "sum" type: "Eltwise" bottom: "conv" bottom: "data" top: "sum" eltwise_param { operation: SUM coeff: 2 coeff: 1 } }
            """;
        var prototxt = fixture.Write("weighted.prototxt", Text);
        var caffemodel = fixture.Write("weighted.caffemodel", WeightsFor6());
        var model = Read(prototxt, caffemodel);
        var mul = model.Graph.Nodes.Single(n => n.Name == "sum/scaled0");

        var refused = PassManager.Run(model.Graph, writer: ModelFormats.ForPath("x.prototxt").WriterContract);
        var skipped = refused.Events.Single(e => e.Node == mul.Name && e.Outcome == PassOutcome.NotApplied);
        StringAssert.Contains(skipped.Detail, "the Caffe writer cannot express removing node 'sum/scaled0', one of the nodes the Eltwise layer 'sum' became");
        Assert.Contains(mul, model.Graph.Nodes);

        // Without the Caffe writer (an export), the same fold applies: the contract, not the pass, refused it.
        var free = Read(prototxt, caffemodel);
        PassManager.Run(free.Graph);
        Assert.IsFalse(free.Graph.Nodes.Any(n => n.Name == "sum/scaled0"));
    }

    [TestMethod]
    public void A_cut_may_drop_a_lowered_layer_whole_but_not_part_of_it()
    {
        using var fixture = new CaffeFixture();
        var (prototxt, caffemodel, _) = WriteLowered(fixture);
        var format = ModelFormats.ForPath("x.prototxt");
        var where = new SourceLocation("edit", 1, 1);

        // Only top p of the Slice kept: its nodes for q and r would go (the cut asks from the end), the layer would stay.
        var partial = Read(prototxt, caffemodel);
        var e = Throws(() => PassManager.Run(partial.Graph, [new ChooseOutputs(["p"], null, where)], format.WriterContract));
        Assert.AreEqual(DiagnosticCodes.InvalidEdit.Code, e.Code);
        StringAssert.Contains(e.Message, "the Caffe writer cannot express removing node 'cut/r', one of the nodes the Slice layer 'cut' became");

        // Cut at the conv: the Slice and the Eltwise go whole, as layers.
        var cut = Read(prototxt, caffemodel);
        PassManager.Run(cut.Graph, [new ChooseOutputs(["conv"], null, where)], format.WriterContract);
        var dir = Path.Combine(Path.GetDirectoryName(prototxt)!, "cut");
        Directory.CreateDirectory(dir);
        format.Write(cut, Path.Combine(dir, "lowered.prototxt"), Path.Combine(dir, "lowered.caffemodel"));
        var layers = File.ReadAllLines(Path.Combine(dir, "lowered.prototxt")).Where(l => l.StartsWith("layer", StringComparison.Ordinal)).ToArray();
        Assert.HasCount(1, layers);
        StringAssert.StartsWith(layers[0], "layer { name: \"conv\"");
    }

    /// <summary><see cref="Lowered"/> and its weights (the conv's only) as files.</summary>
    private static (string Prototxt, string Caffemodel, NetParameter Weights) WriteLowered(CaffeFixture fixture)
    {
        var weights = new NetParameter { Name = "lowered" };
        weights.Layer.Add(Layer("conv", "Convolution", Blob(1, 0, 6, 1, 1, 1), Blob(1, 1, 6)));
        return (fixture.Write("lowered.prototxt", Lowered), fixture.Write("lowered.caffemodel", weights.ToByteArray()), weights);
    }

    private static byte[] WeightsFor6()
    {
        var weights = new NetParameter { Name = "weighted" };
        weights.Layer.Add(Layer("conv", "Convolution", Blob(1, 0, 6, 6, 1, 1), Blob(1, 1, 6)));
        return weights.ToByteArray();
    }
}
