using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// Each ONNX operator of the supported set on a 1x3x8x8 input: the IR op it maps to, the output
/// shape from the ONNX operator's definition and, where it has arithmetic, its cost counted by hand.
/// </summary>
[TestClass]
public sealed class OnnxOperatorTests
{
    private static (Model Model, ModelReport Report, string Shape) Run(ModelProto model, string output = "y")
    {
        var read = Read(model);
        var shapes = ShapeInference.Run(read.Graph);
        return (read, CostModel.Analyze(read), shapes[output].ToString());
    }

    private static ModelProto One(long opset, NodeProto node, params TensorProto[] initializers) => Model(opset, [node], initializers);

    [TestMethod]
    [DataRow("Relu", "relu")]
    [DataRow("Sigmoid", "sigmoid")]
    [DataRow("Tanh", "tanh")]
    [DataRow("Softplus", "softplus")]
    [DataRow("HardSigmoid", "hardsigmoid")]
    [DataRow("HardSwish", "hardswish")]
    [DataRow("LeakyRelu", "leaky")]
    public void Activations_map_to_the_activation_op(string op, string function)
    {
        var (model, _, shape) = Run(One(14, Node(op, "act", ["x"], ["y"])));
        Assert.AreEqual("1x3x8x8", shape);
        Assert.AreEqual("Activation", model.Graph.Nodes[0].OpType);
        Assert.AreEqual(function, model.Graph.Nodes[0].Attributes.String("function"));
    }

    [TestMethod]
    [DataRow(0f, 6f, "relu6")]
    [DataRow(-1f, 1f, "clip")]
    public void Clip_bounds_come_from_inputs_since_opset_11(float min, float max, string function)
    {
        var lo = new TensorProto { Name = "lo", DataType = (int)TensorProto.Types.DataType.Float };
        lo.FloatData.Add(min);
        var hi = new TensorProto { Name = "hi", DataType = (int)TensorProto.Types.DataType.Float };
        hi.FloatData.Add(max);
        var (model, report, _) = Run(One(13, Node("Clip", "clip", ["x", "lo", "hi"], ["y"]), lo, hi));
        Assert.AreEqual(function, model.Graph.Nodes[0].Attributes.String("function"));
        Assert.AreEqual(0L, report.Totals.Params); // the bounds are folded into the node
    }

    [TestMethod]
    public void PRelu_slope_is_a_parameter()
    {
        var (_, report, shape) = Run(One(13, Node("PRelu", "prelu", ["x", "slope"], ["y"]), Floats("slope", 3, 1, 1)));
        Assert.AreEqual("1x3x8x8", shape);
        Assert.AreEqual(3L, report.Totals.Params);
    }

    [TestMethod]
    public void BatchNormalization_stores_four_values_per_channel()
    {
        var (_, report, _) = Run(One(13, Node("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["y"]),
            Floats("s", 3), Floats("b", 3), Floats("m", 3), Floats("v", 3)));
        Assert.AreEqual(12L, report.Totals.Params);
        Assert.AreEqual(2L * 192, report.Totals.Secondary.Normalization);
    }

    [TestMethod]
    public void Add_broadcasts_a_per_channel_bias()
    {
        var (model, report, shape) = Run(One(13, Node("Add", "add", ["x", "bias"], ["y"]), Floats("bias", 3, 1, 1)));
        Assert.AreEqual("1x3x8x8", shape);
        Assert.AreEqual("Arithmetic", model.Graph.Nodes[0].OpType);
        Assert.AreEqual(192L, report.Totals.Secondary.Elementwise);
        Assert.AreEqual(3L, report.Totals.Params);
    }

    [TestMethod]
    [DataRow(1L, 10L, 192L)]
    [DataRow(0L, 192L, 10L)]
    public void Gemm_after_flatten_is_a_fully_connected_layer(long transB, long rows, long columns)
    {
        var model = Model(13,
        [
            Node("Flatten", "flatten", ["x"], ["f"], Int("axis", 1)),
            Node("Gemm", "fc", ["f", "w", "b"], ["y"], Int("transB", transB)),
        ], [Floats("w", rows, columns), Floats("b", 10)]);
        var (_, report, shape) = Run(model);
        Assert.AreEqual("1x10", shape);
        Assert.AreEqual(192L * 10, report.Totals.Macc);
        Assert.AreEqual((192L * 10) + 10, report.Totals.Params);
    }

    [TestMethod]
    public void MatMul_costs_M_K_N_per_matrix()
    {
        var (_, report, shape) = Run(One(13, Node("MatMul", "mm", ["x", "w"], ["y"]), Floats("w", 8, 5)));
        Assert.AreEqual("1x3x8x5", shape);
        Assert.AreEqual(3L * 8 * 8 * 5, report.Totals.Macc); // 3 matrices of M=8, K=8, N=5
    }

    [TestMethod]
    public void ConvTranspose_follows_the_deconvolution_formula()
    {
        // out = stride*(in-1) + k - pad_begin - pad_end = 2*7 + 3 - 2 = 15; MACC = k*k*Cout*Hin*Win*Cin.
        var (_, report, shape) = Run(One(13, Node("ConvTranspose", "up", ["x", "w"], ["y"], Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)), Floats("w", 3, 2, 3, 3)));
        Assert.AreEqual("1x2x15x15", shape);
        Assert.AreEqual(3L * 3 * 2 * 8 * 8 * 3, report.Totals.Macc);
    }

    [TestMethod]
    public void AveragePool_keeps_count_include_pad()
    {
        var (model, report, shape) = Run(One(13, Node("AveragePool", "pool", ["x"], ["y"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("count_include_pad", 1))));
        Assert.AreEqual("1x3x4x4", shape);
        Assert.AreEqual(1L, model.Graph.Nodes[0].Attributes.Int("count_include_pad"));
        Assert.AreEqual(4L * 48, report.Totals.Secondary.Pooling); // 2x2 window per output
    }

    [TestMethod]
    [DataRow("GlobalAveragePool")]
    [DataRow("GlobalMaxPool")]
    public void Global_pools_give_one_value_per_channel(string op) =>
        Assert.AreEqual("1x3x1x1", Run(One(13, Node(op, "gp", ["x"], ["y"]))).Shape);

    [TestMethod]
    public void Pad_since_opset_11_reads_pads_begin_then_end()
    {
        var (_, _, shape) = Run(One(13, Node("Pad", "pad", ["x", "pads"], ["y"]), Int64s("pads", 0, 0, 1, 2, 0, 0, 3, 4)));
        Assert.AreEqual("1x3x12x14", shape);
    }

    [TestMethod]
    public void Pad_before_opset_11_reads_the_attribute() =>
        Assert.AreEqual("1x3x12x14", Run(One(10, Node("Pad", "pad", ["x"], ["y"], Ints("pads", 0, 0, 1, 2, 0, 0, 3, 4)))).Shape);

    [TestMethod]
    public void Resize_by_scales_and_to_sizes()
    {
        var scales = new TensorProto { Name = "scales", DataType = (int)TensorProto.Types.DataType.Float };
        scales.Dims.Add(4);
        scales.FloatData.AddRange([1f, 1f, 2f, 2f]);
        Assert.AreEqual("1x3x16x16", Run(One(13, Node("Resize", "resize", ["x", string.Empty, "scales"], ["y"]), scales)).Shape);
        Assert.AreEqual("1x3x5x7", Run(One(13, Node("Resize", "resize", ["x", string.Empty, string.Empty, "sizes"], ["y"]), Int64s("sizes", 1, 3, 5, 7))).Shape);
    }

    [TestMethod]
    public void Upsample_opset_9_reads_scales_from_its_input()
    {
        var scales = new TensorProto { Name = "scales", DataType = (int)TensorProto.Types.DataType.Float };
        scales.Dims.Add(4);
        scales.FloatData.AddRange([1f, 1f, 2f, 2f]);
        var (_, report, shape) = Run(One(9, Node("Upsample", "up", ["x", "scales"], ["y"], Text("mode", "nearest")), scales));
        Assert.AreEqual("1x3x16x16", shape);
        Assert.AreEqual(0L, report.Totals.Secondary.Elementwise); // nearest copies
    }

    [TestMethod]
    public void Split_cuts_the_axis_by_the_given_sizes()
    {
        var model = Model(13, [Node("Split", "split", ["x", "sizes"], ["a", "b"], Int("axis", 1))], [Int64s("sizes", 1, 2)], outputs: ["a", "b"]);
        var read = Read(model);
        var shapes = ShapeInference.Run(read.Graph);
        Assert.AreEqual("1x1x8x8", shapes["a"].ToString());
        Assert.AreEqual("1x2x8x8", shapes["b"].ToString());
    }

    [TestMethod]
    [DataRow(2L, 100L, 2L, 3L)] // positions 2, 4, 6
    [DataRow(-1L, -100L, -3L, 3L)] // positions 7, 4, 1
    [DataRow(1L, 1L, 1L, 0L)] // empty: refused by shape inference as an empty shape
    public void Slice_clamps_and_steps_like_ONNX(long start, long end, long step, long expected)
    {
        var model = One(13, Node("Slice", "slice", ["x", "starts", "ends", "axes", "steps"], ["y"]),
            Int64s("starts", start), Int64s("ends", end), Int64s("axes", 3), Int64s("steps", step));
        if (expected == 0)
        {
            Support.DiagnosticAssert.Throws(NeuralBuild.Engine.Diagnostics.DiagnosticCodes.ShapeNotPositive, () => Read(model));
            return;
        }

        Assert.AreEqual($"1x3x8x{expected}", Run(model).Shape);
    }

    [TestMethod]
    public void Squeeze_and_unsqueeze_take_axes_from_inputs_since_opset_13_and_attributes_before()
    {
        Assert.AreEqual("1x1x3x8x8", Run(One(13, Node("Unsqueeze", "u", ["x", "axes"], ["y"]), Int64s("axes", 1))).Shape);
        Assert.AreEqual("1x3x8x8x1", Run(One(11, Node("Unsqueeze", "u", ["x"], ["y"], Ints("axes", -1)))).Shape);
        var squeeze = Model(13,
        [
            Node("GlobalAveragePool", "gap", ["x"], ["g"]),
            Node("Squeeze", "s", ["g", "axes"], ["y"]),
        ], [Int64s("axes", 2, 3)]);
        Assert.AreEqual("1x3", Run(squeeze).Shape);
    }

    [TestMethod]
    public void Transpose_and_flatten_at_axis_2()
    {
        Assert.AreEqual("1x8x8x3", Run(One(13, Node("Transpose", "t", ["x"], ["y"], Ints("perm", 0, 2, 3, 1)))).Shape);
        Assert.AreEqual("3x64", Run(One(13, Node("Flatten", "f", ["x"], ["y"], Int("axis", 2)))).Shape);
    }

    [TestMethod]
    public void ReduceMean_over_the_spatial_axes()
    {
        var (_, report, shape) = Run(One(13, Node("ReduceMean", "mean", ["x"], ["y"], Ints("axes", 2, 3), Int("keepdims", 0))));
        Assert.AreEqual("1x3", shape);
        Assert.AreEqual(192L, report.Totals.Secondary.Pooling);
    }

    [TestMethod]
    public void Softmax_concat_identity_and_dropout_keep_shapes()
    {
        var model = Model(13,
        [
            Node("Identity", "id", ["x"], ["a"]),
            Node("Dropout", "drop", ["a"], ["b"]),
            Node("Concat", "cat", ["a", "b"], ["c"], Int("axis", 1)),
            Node("Softmax", "soft", ["c"], ["y"], Int("axis", 1)),
        ]);
        var (read, _, shape) = Run(model);
        Assert.AreEqual("1x6x8x8", shape);
        Assert.IsTrue(read.Graph.Nodes[0].InPlace);
        Assert.IsTrue(read.Graph.Nodes[1].InPlace);
    }

    [TestMethod]
    public void The_parsed_model_is_kept_with_fields_outside_the_subset()
    {
        // ModelProto field 20 (training_info) is not declared in the subset: it is kept as an
        // unknown field, so the writer (part 2) can emit the model unchanged.
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(Conv());
        byte[] trainingInfo = [0xA2, 0x01, 2, 0x0A, 0x00]; // tag (20 << 3 | 2) as a varint, length 2, an empty field 1
        var parsed = ModelProto.Parser.ParseFrom([.. bytes, .. trainingInfo]);
        var model = new NeuralBuild.Engine.Formats.Onnx.OnnxFormat().Read("tiny.onnx", parsed, new NeuralBuild.Engine.Formats.ModelReadOptions());
        var document = (NeuralBuild.Engine.Formats.Onnx.OnnxModel)model.SourceDocument!;
        CollectionAssert.AreEqual(bytes.Concat(trainingInfo).ToArray(), Google.Protobuf.MessageExtensions.ToByteArray(document.Proto));
        Assert.AreEqual(13L, document.Opset);
        Assert.AreEqual(0, document.InitializerIndex["w"]);
    }
}
