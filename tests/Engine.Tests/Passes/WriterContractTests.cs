using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Tests.Formats.Onnx;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Passes ask the writer's contract before they edit: an edit the writer cannot write is reported
/// as "not applied: the X writer cannot express …" and the graph stays as it was, instead of the
/// writer throwing after the passes ran.
/// </summary>
[TestClass]
public sealed class WriterContractTests
{
    private static readonly LayerOrigin Origin = new(0, "test", "t", new SourceLocation("t.onnx", 1, 1));

    [TestMethod]
    public void A_fold_whose_new_parameters_the_writer_cannot_store_is_not_applied_and_says_which_writer()
    {
        var graph = PassManagerTests.ChainOfConvMulBatchNorm(1);
        var before = graph.Nodes.Select(n => n.OpType).ToArray();

        var report = PassManager.Run(graph, writer: new Refusing("Test", NodeEdit.ParametersReplaced, "Conv"));

        CollectionAssert.AreEqual(before, graph.Nodes.Select(n => n.OpType).ToArray(), "nothing folded");
        Assert.IsEmpty(report.Folds);
        var refusals = report.NotApplied.ToList();
        Assert.IsTrue(refusals.Any(e => e.Node == "mul0" && e.Detail == "the Test writer cannot express Conv after ParametersReplaced"), string.Join("\n", refusals));
    }

    [TestMethod]
    public void A_removal_the_writer_cannot_express_keeps_the_node()
    {
        var graph = new Graph();
        graph.Inputs["x"] = Shape.Nchw(1, 1, 2, 2);
        graph.Nodes.Add(new Node("drop", "Dropout", ["x"], ["d"], Origin, new Attributes()));
        graph.Nodes.Add(new Node("relu", "Activation", ["d"], ["r"], Origin, new Attributes().Set("function", "relu")));
        graph.Outputs.Add("r");

        var report = PassManager.Run(graph, writer: new Refusing("Test", NodeEdit.Removed, "Dropout"));

        Assert.AreEqual("Dropout", graph.Nodes[0].OpType);
        Assert.AreEqual("the Test writer cannot express Dropout after Removed", report.NotApplied.Single(e => e.Node == "drop").Detail);
    }

    [TestMethod]
    public void Without_a_contract_the_same_folds_apply()
    {
        var graph = PassManagerTests.ChainOfConvMulBatchNorm(1);

        var report = PassManager.Run(graph);

        Assert.HasCount(2, report.Folds);
    }

    [TestMethod]
    [DataRow("darknet", "Darknet")]
    [DataRow("caffe", "Caffe")]
    [DataRow("onnx", "ONNX")]
    public void Each_source_writer_refuses_a_node_a_pass_made_and_accepts_removals_and_new_conv_weights(string format, string writer)
    {
        var contract = ModelFormats.All.Single(f => f.Name == format).WriterContract;
        var conv = new Node("c", "Conv", ["x", "w"], ["y"], Origin, new Attributes());

        Assert.AreEqual(writer, contract.WriterName);
        StringAssert.StartsWith(contract.CannotExpress(conv, NodeEdit.Created), "a new Conv node");
        Assert.IsNull(contract.CannotExpress(conv, NodeEdit.ParametersReplaced));
        Assert.IsNull(contract.CannotExpress(conv, NodeEdit.Removed));
    }

    [TestMethod]
    public void The_caffe_writer_stores_new_blobs_only_for_convolution_deconvolution_and_inner_product()
    {
        var contract = ModelFormats.All.Single(f => f.Name == "caffe").WriterContract;
        var normalize = new Node("n", "Normalize", ["x", "s"], ["y"], new LayerOrigin(3, "Normalize", "conv4_3_norm", new SourceLocation("ssd.prototxt", 9, 1)), new Attributes());

        StringAssert.Contains(contract.CannotExpress(normalize, NodeEdit.ParametersReplaced), "Normalize layer 'conv4_3_norm'");
        Assert.IsNull(contract.CannotExpress(new Node("d", "ConvTranspose", ["x", "w"], ["y"], Origin, new Attributes()), NodeEdit.ParametersReplaced));
        Assert.IsNull(contract.CannotExpress(new Node("f", "FullyConnected", ["x", "w"], ["y"], Origin, new Attributes()), NodeEdit.ParametersReplaced));
    }

    [TestMethod]
    public void Pruning_through_a_node_whose_channels_the_writer_cannot_state_is_not_applied_and_says_which_writer()
    {
        // x → Conv 3→2 (filter 1 all zero, bias 0) → Relu → Conv 1x1 2→1 → y.
        float[] filters = [.. Enumerable.Range(0, 27).Select(i => (i % 5) - 2f), .. new float[27]];
        var proto = TinyOnnx.Model(13,
        [
            TinyOnnx.Node("Conv", "a", ["x", "w", "b"], ["c"], TinyOnnx.Ints("kernel_shape", 3, 3)),
            TinyOnnx.Node("Relu", "relu", ["c"], ["r"]),
            TinyOnnx.Node("Conv", "head", ["r", "w2"], ["y"], TinyOnnx.Ints("kernel_shape", 1, 1)),
        ],
        [TinyOnnx.Values("w", [2, 3, 3, 3], filters), TinyOnnx.Values("b", [2], 0.5f, 0f), TinyOnnx.Values("w2", [1, 2, 1, 1], 1f, 2f)]);
        var model = TinyOnnx.Read(proto);

        var report = PassManager.Run(model.Graph, [new PruneDeadChannels()], new Refusing("Test", NodeEdit.ChannelsRemoved, "Activation"));

        Assert.IsEmpty(report.Pruning);
        StringAssert.EndsWith(report.NotApplied.Single(e => e.Node == "a").Detail, "kept: the Test writer cannot express Activation after ChannelsRemoved");
        var pruned = PassManager.Run(TinyOnnx.Read(proto).Graph, [new PruneDeadChannels()]);
        Assert.AreEqual(1, pruned.Pruning.Single(p => p.Node == "a").OutputChannelsRemoved, "without the refusal the channel goes");
    }

    [TestMethod]
    public void Each_source_writer_states_fewer_channels_of_convs_and_refuses_them_where_it_has_no_count_to_write()
    {
        Node Of(string op, string kind) => new("n", op, ["x", "w"], ["y"], new LayerOrigin(2, kind, "n", new SourceLocation("m", 3, 1)), new Attributes());
        var darknet = ModelFormats.All.Single(f => f.Name == "darknet").WriterContract;
        var caffe = ModelFormats.All.Single(f => f.Name == "caffe").WriterContract;
        var onnx = ModelFormats.All.Single(f => f.Name == "onnx").WriterContract;

        Assert.IsNull(darknet.CannotExpress(Of("Conv", "convolutional"), NodeEdit.ChannelsRemoved));
        Assert.IsNull(darknet.CannotExpress(Of("MaxPool", "maxpool"), NodeEdit.ChannelsRemoved));
        StringAssert.Contains(darknet.CannotExpress(Of("LocallyConnected", "local"), NodeEdit.ChannelsRemoved), "[local] section");
        Assert.IsNull(caffe.CannotExpress(Of("FullyConnected", "InnerProduct"), NodeEdit.ChannelsRemoved));
        StringAssert.Contains(caffe.CannotExpress(Of("Normalize", "Normalize"), NodeEdit.ChannelsRemoved), "Normalize layer");
        Assert.IsNull(onnx.CannotExpress(Of("Conv", "Conv"), NodeEdit.ChannelsRemoved));
        StringAssert.Contains(onnx.CannotExpress(Of("Reshape", "Reshape"), NodeEdit.ChannelsRemoved), "Reshape node");
    }

    /// <summary>A writer that cannot express one kind of edit of one operator.</summary>
    private sealed class Refusing(string name, NodeEdit edit, string opType) : WriterContract
    {
        public override string WriterName => name;

        public override string? CannotExpress(Node node, NodeEdit e) => e == edit && node.OpType == opType ? $"{opType} after {edit}" : null;
    }
}
