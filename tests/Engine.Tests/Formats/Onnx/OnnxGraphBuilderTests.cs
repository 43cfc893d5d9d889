using Google.Protobuf;
using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>Shape rules, constant folding and every refusal of the ONNX reader on tiny hand-built models.</summary>
[TestClass]
public sealed class OnnxGraphBuilderTests
{
    private static string OutputShape(ModelProto model) => ShapeInference.Run(Read(model).Graph)["y"].ToString();

    [TestMethod]
    public void A_range_of_a_float_initializer_is_that_range_of_its_values_in_raw_data_and_float_data()
    {
        // The values written by hand: element i is i / 8 - 100, in raw_data and again in float_data.
        float[] values = [.. Enumerable.Range(0, 5000).Select(i => (i / 8f) - 100)];
        var floatData = new TensorProto { Name = "f", DataType = (int)TensorProto.Types.DataType.Float };
        floatData.Dims.AddRange([5000]);
        floatData.FloatData.AddRange(values);
        var model = Read(Model(13, [Node("Add", "a", ["x", "r"], ["t"]), Node("Add", "b", ["t", "f"], ["y"])], [Values("r", [5000], values), floatData], inputDims: [5000]));
        foreach (var name in new[] { "r", "f" })
        {
            var range = new float[1000];
            model.Graph.Initializers[name].Data!.CopyTo(3001, range);
            CollectionAssert.AreEqual(values[3001..4001], range, name);
        }
    }

    [TestMethod]
    public void Conv_with_asymmetric_pads_dilation_and_stride_follows_the_convolution_formula()
    {
        // H: floor((8 + 0 + 2 - 2*(3-1) - 1) / 2) + 1 = floor(5/2) + 1 = 3; W: floor((8 + 1 + 0 - 4 - 1) / 2) + 1 = 3.
        var model = Conv(13, Ints("pads", 0, 1, 2, 0), Ints("dilations", 2, 2), Ints("strides", 2, 2));
        Assert.AreEqual("1x4x3x3", OutputShape(model));
        var report = CostModel.Analyze(Read(model));
        Assert.AreEqual(3L * 3 * 3 * 3 * 3 * 4, report.Totals.Macc); // k*k*Cin * Hout*Wout*Cout
    }

    [TestMethod]
    [DataRow("SAME_UPPER", 1, "1x4x4x4")]
    [DataRow("SAME_LOWER", 1, "1x4x4x4")]
    [DataRow("VALID", 1, "1x4x3x3")]
    [DataRow("NOTSET", 1, "1x4x3x3")]
    public void Auto_pad_gives_ceil_of_input_over_stride_for_SAME(string autoPad, int unused, string expected)
    {
        _ = unused;
        // SAME: out = ceil(8/2) = 4; VALID / NOTSET without pads: floor((8-3)/2)+1 = 3.
        Assert.AreEqual(expected, OutputShape(Conv(13, Text("auto_pad", autoPad), Ints("strides", 2, 2))));
    }

    [TestMethod]
    public void Same_upper_and_lower_put_the_odd_pad_at_the_end_and_the_beginning()
    {
        // 8 → 4 with k=3, s=2: total pad = (4-1)*2 + 3 - 8 = 1.
        var upper = Read(Conv(13, Text("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2))).Graph.Nodes[0].Attributes.Ints("pads");
        var lower = Read(Conv(13, Text("auto_pad", "SAME_LOWER"), Ints("strides", 2, 2))).Graph.Nodes[0].Attributes.Ints("pads");
        CollectionAssert.AreEqual(new long[] { 0, 0, 1, 1 }, upper);
        CollectionAssert.AreEqual(new long[] { 1, 1, 0, 0 }, lower);
    }

    [TestMethod]
    public void Grouped_conv_counts_cin_over_groups()
    {
        var model = Model(13, [Node("Conv", "dw", ["x", "w"], ["y"], Int("group", 3), Ints("pads", 1, 1, 1, 1))], [Floats("w", 3, 1, 3, 3)]);
        var report = CostModel.Analyze(Read(model));
        Assert.AreEqual(3L * 3 * 1 * 8 * 8 * 3, report.Totals.Macc);
        Assert.AreEqual(27L, report.Totals.Params);
    }

    [TestMethod]
    public void Ceil_mode_pooling_rounds_up()
    {
        // ceil((8 - 3) / 2) + 1 = 4 (floor would give 3).
        var model = Model(13, [Node("MaxPool", "pool", ["x"], ["y"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Int("ceil_mode", 1))]);
        Assert.AreEqual("1x3x4x4", OutputShape(model));
    }

    [TestMethod]
    [DataRow(1L, 3L, 0L, 1L, "1x3x3x3")] // ceil((8-1)/3)+1 = 4; window 3 would start at 9 >= 8: dropped
    [DataRow(3L, 2L, 1L, 1L, "1x3x5x5")] // ceil((8+2-3)/2)+1 = 5; last start 8 < 8+1: kept
    [DataRow(2L, 2L, 0L, 2L, "1x3x4x4")] // dilated window spans 3: ceil((8-3)/2)+1 = 4; start 6 < 8
    public void Ceil_mode_drops_a_last_window_starting_in_the_end_padding(long kernel, long stride, long pad, long dilation, string expected)
    {
        var model = Model(13, [Node("MaxPool", "pool", ["x"], ["y"], Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride),
            Ints("pads", pad, pad, pad, pad), Ints("dilations", dilation, dilation), Int("ceil_mode", 1))]);
        Assert.AreEqual(expected, OutputShape(model));
    }

    [TestMethod]
    public void Shape_gather_unsqueeze_concat_chains_fold_into_a_reshape()
    {
        // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): 1x3x8x8 → 1x192.
        var axes = Int64s("axes", 0);
        var minusOne = Int64s("minus_one", -1);
        var index = new TensorProto { Name = "zero", DataType = (int)TensorProto.Types.DataType.Int64 };
        index.Int64Data.Add(0);
        var model = Model(13,
        [
            Node("Shape", "shape", ["x"], ["s"]),
            Node("Constant", "c0", [], ["i0"], Tensor("value", index)),
            Node("Gather", "gather", ["s", "i0"], ["n"], Int("axis", 0)),
            Node("Unsqueeze", "unsq", ["n", "axes"], ["n1"]),
            Node("Concat", "cat", ["n1", "minus_one"], ["spec"], Int("axis", 0)),
            Node("Reshape", "reshape", ["x", "spec"], ["y"]),
        ], [axes, minusOne]);
        var read = Read(model);
        Assert.HasCount(1, read.Graph.Nodes);
        Assert.AreEqual("Reshape", read.Graph.Nodes[0].OpType);
        Assert.AreEqual("1x192", ShapeInference.Run(read.Graph)["y"].ToString());
        var document = (OnnxModel)read.SourceDocument!;
        Assert.HasCount(5, document.FoldedNodes);
        Assert.AreEqual("reshape", document.NodeOf(read.Graph.Nodes[0]).Name);
    }

    [TestMethod]
    public void Float_data_and_raw_data_hold_the_same_weights()
    {
        var typed = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        typed.Dims.AddRange([4, 3, 3, 3]);
        typed.FloatData.AddRange(Enumerable.Range(0, 108).Select(i => (float)(i * 0.01)));
        var fromTyped = Read(Model(13, [Node("Conv", "conv", ["x", "w"], ["y"])], [typed])).Graph.Initializers["w"].Data!.ToArray();
        var fromRaw = Read(Conv()).Graph.Initializers["w"].Data!.ToArray();
        CollectionAssert.AreEqual(fromRaw, fromTyped);
    }

    [TestMethod]
    public void Float16_in_int32_data_and_double_data_weights_are_widened_to_float()
    {
        // 108 weights of value i / 4 (exact in float16 up to 2048 and in double).
        var half = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float16 };
        half.Dims.AddRange([4, 3, 3, 3]);
        half.Int32Data.AddRange(Enumerable.Range(0, 108).Select(i => (int)BitConverter.HalfToUInt16Bits((Half)(i / 4.0))));
        var wide = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Double };
        wide.Dims.AddRange([4, 3, 3, 3]);
        wide.DoubleData.AddRange(Enumerable.Range(0, 108).Select(i => i / 4.0));
        var expected = Enumerable.Range(0, 108).Select(i => (float)(i / 4.0)).ToArray();
        foreach (var tensor in new[] { half, wide })
        {
            var read = Read(Model(13, [Node("Conv", "conv", ["x", "w"], ["y"])], [tensor]));
            CollectionAssert.AreEqual(expected, read.Graph.Initializers["w"].Data!.ToArray());
        }

        // Float16 weights take 2 bytes each.
        Assert.AreEqual(216L, CostModel.Analyze(Read(Model(13, [Node("Conv", "conv", ["x", "w"], ["y"])], [half]))).Totals.WeightsBytes);
    }

    [TestMethod]
    public void External_data_inside_the_model_folder_is_read()
    {
        using var dir = new TempDirectory();
        var raw = Floats("w", 4, 3, 3, 3).RawData.ToByteArray();
        Directory.CreateDirectory(dir.Combine("data"));
        File.WriteAllBytes(dir.Combine(Path.Combine("data", "weights.bin")), [.. new byte[16], .. raw]);
        var model = Conv();
        External(model.Graph.Initializer[0], "data/weights.bin", offset: 16);
        var path = dir.Write("net.onnx", model.ToByteArray());
        var read = ModelFormats.Read(path);
        Assert.AreEqual(path, new OnnxFormat().DefaultWeightsPath(path));
        CollectionAssert.AreEqual(Read(Conv()).Graph.Initializers["w"].Data!.ToArray(), read.Graph.Initializers["w"].Data!.ToArray());
    }

    // ---------------------------------------------------------------------------------------
    // Refusals: each a coded error naming the node or tensor.

    [TestMethod]
    public void A_cycle_is_NM0205_naming_the_nodes()
    {
        var model = Model(13, [Node("Relu", "a", ["b_out"], ["a_out"]), Node("Relu", "b", ["a_out"], ["b_out"]), Node("Relu", "c", ["x"], ["y"])]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxCycle, () => Read(model));
        StringAssert.Contains(error.Message, "'a' (Relu)");
        StringAssert.Contains(error.Message, "'b' (Relu)");
    }

    [TestMethod]
    public void Reading_a_value_nobody_produces_is_NM0203_naming_node_and_value()
    {
        var model = Model(13, [Node("Conv", "conv", ["x", "missing_weight"], ["y"])]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxUnknownValue, () => Read(model));
        StringAssert.Contains(error.Message, "'conv' (Conv)");
        StringAssert.Contains(error.Message, "'missing_weight'");
    }

    [TestMethod]
    public void Two_nodes_writing_one_value_is_NM0204()
    {
        var model = Model(13, [Node("Relu", "relu1", ["x"], ["y"]), Node("Sigmoid", "sig", ["x"], ["y"])]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxDuplicateValue, () => Read(model));
        StringAssert.Contains(error.Message, "'sig' (Sigmoid)");
        StringAssert.Contains(error.Message, "'relu1' (Relu)");
    }

    [TestMethod]
    public void A_node_overwriting_an_initializer_is_NM0204()
    {
        var model = Model(13, [Node("Relu", "relu", ["x"], ["w"]), Node("Conv", "conv", ["x", "w"], ["y"])], [Floats("w", 4, 3, 3, 3)]);
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxDuplicateValue, () => Read(model));
    }

    [TestMethod]
    public void Raw_data_shorter_than_the_dims_is_NM0206_naming_the_tensor()
    {
        var model = Conv();
        model.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[100]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxTensorSize, () => Read(model));
        StringAssert.Contains(error.Message, "'w'");
        StringAssert.Contains(error.Message, "108 elements"); // 4*3*3*3
        StringAssert.Contains(error.Message, "100 bytes");
    }

    [TestMethod]
    public void Typed_data_longer_than_the_dims_is_NM0206()
    {
        var model = Model(13, [Node("Reshape", "reshape", ["x", "shape"], ["y"])], [Int64s("shape", 1, -1)]);
        model.Graph.Initializer[0].Dims[0] = 3;
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxTensorSize, () => Read(model));
        StringAssert.Contains(error.Message, "'shape'");
        StringAssert.Contains(error.Message, "int64_data holds 2 values");
    }

    [TestMethod]
    public void An_unknown_operator_is_NM0202_naming_the_node()
    {
        var model = Model(13, [Node("Einsum", "attn", ["x"], ["y"])]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxUnsupportedOperator, () => Read(model));
        StringAssert.Contains(error.Message, "'attn' (Einsum)");
    }

    [TestMethod]
    public void A_custom_domain_operator_is_NM0202()
    {
        var node = Node("Relu", "custom", ["x"], ["y"]);
        node.Domain = "com.example";
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxUnsupportedOperator, () => Read(Model(13, [node])));
    }

    [TestMethod]
    [DataRow(6L)]
    [DataRow(19L)]
    public void An_opset_outside_7_to_18_is_NM0201_naming_it(long opset)
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxOpsetUnsupported, () => Read(Conv(opset)));
        StringAssert.Contains(error.Message, $"version {opset}");
        StringAssert.Contains(error.Message, "[7, 18]");
    }

    [TestMethod]
    [DataRow(7L)]
    [DataRow(18L)]
    public void The_ends_of_the_opset_range_are_read(long opset) =>
        Assert.AreEqual("1x4x6x6", OutputShape(Conv(opset)));

    [TestMethod]
    [DataRow("../weights.bin")]
    [DataRow("data/../../weights.bin")]
    [DataRow("/etc/passwd")]
    public void External_data_outside_the_model_folder_is_NM0207(string location)
    {
        using var dir = new TempDirectory();
        var model = Conv();
        External(model.Graph.Initializer[0], location, offset: 0);
        var path = dir.Write(Path.Combine("net.onnx"), model.ToByteArray());
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxExternalDataRefused, () => ModelFormats.Read(path));
        StringAssert.Contains(error.Message, "'w'");
        StringAssert.Contains(error.Message, location);
    }

    [TestMethod]
    public void External_data_through_a_link_leading_out_is_NM0207()
    {
        using var outside = new TempDirectory();
        using var dir = new TempDirectory();
        var secret = outside.Write("secret.bin", new byte[432]);
        File.CreateSymbolicLink(dir.Combine("weights.bin"), secret);
        var model = Conv();
        External(model.Graph.Initializer[0], "weights.bin", offset: 0);
        var path = dir.Write("net.onnx", model.ToByteArray());
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxExternalDataRefused, () => ModelFormats.Read(path));
    }

    [TestMethod]
    public void External_data_shorter_than_the_tensor_is_NM0208()
    {
        using var dir = new TempDirectory();
        dir.Write("weights.bin", new byte[400]); // 108 floats need 432 bytes
        var model = Conv();
        External(model.Graph.Initializer[0], "weights.bin", offset: 0);
        var path = dir.Write("net.onnx", model.ToByteArray());
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxExternalDataMissing, () => ModelFormats.Read(path));
        StringAssert.Contains(error.Message, "432 bytes");
    }

    [TestMethod]
    public void A_truncated_file_is_NM0200()
    {
        using var dir = new TempDirectory();
        var bytes = Conv().ToByteArray();
        var path = dir.Write("net.onnx", bytes[..(bytes.Length - 50)]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxMalformed, () => ModelFormats.Read(path));
        StringAssert.Contains(error.Message, "net.onnx");
    }

    [TestMethod]
    public void A_computed_reshape_target_is_NM0212()
    {
        var model = Model(13, [Node("Relu", "r", ["x"], ["spec"]), Node("Reshape", "reshape", ["x", "spec"], ["y"])]);
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxNonConstantInput, () => Read(model));
        StringAssert.Contains(error.Message, "'reshape' (Reshape)");
    }

    [TestMethod]
    public void A_symbolic_spatial_input_dimension_is_NM0211_unless_the_shape_is_given()
    {
        var model = Conv();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "height" };
        var error = DiagnosticAssert.Throws(DiagnosticCodes.OnnxBadGraphInput, () => Read(model));
        StringAssert.Contains(error.Message, "'height'");
        Assert.AreEqual("1x4x14x14", ShapeInference.Run(Read(model, input: Shape.Parse("1x3x16x16")).Graph)["y"].ToString());
    }

    private static void External(TensorProto tensor, string location, long offset)
    {
        tensor.ClearRawData();
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "432" });
    }
}
