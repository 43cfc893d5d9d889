using System.Text;
using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.OnnxFoldHarness;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// The ONNX writer: read → write without passes reproduces the file; after passes, what changed
/// is edited and everything else (doc strings, metadata, unknown fields, unused initializers,
/// value_info of values that still exist) survives. Written files are checked by onnx.checker.
/// </summary>
[TestClass]
public sealed class OnnxWriterTests
{
    [TestMethod]
    [DynamicData(nameof(OnnxExport.EachModel), typeof(OnnxExport))]
    public void Read_then_write_without_passes_reproduces_a_torchvision_export_byte_for_byte(string name)
    {
        using var dir = new TempDirectory();
        var source = OnnxExport.PathOf(name);
        var model = ModelFormats.Read(source);
        var output = dir.Combine(name + ".onnx");

        new OnnxFormat().Write(model, output, output);

        var expected = File.ReadAllBytes(source);
        var actual = File.ReadAllBytes(output);
        Assert.HasCount(expected.Length, actual);
        Assert.IsTrue(expected.AsSpan().SequenceEqual(actual), $"{name}: the written bytes differ from the export");
    }

    private static ModelProto ConvBnRelu(long[]? input = null) => Model(13,
        [
            Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
            BatchNorm("bn", "c", "b", "bn"),
            Node("Relu", "relu", ["b"], ["y"]),
        ],
        [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3), .. BatchNormParameters("bn", 6, 10)],
        inputDims: input ?? [1, 3, 8, 8]);

    /// <summary>A length-delimited field (tag, length, payload): how unknown fields are planted.</summary>
    private static byte[] Field(int number, byte[] payload)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(payload));
        output.Flush();
        return stream.ToArray();
    }

    private static byte[] Text(int number, string text) => Field(number, Encoding.UTF8.GetBytes(text));

    [TestMethod]
    public void Doc_strings_metadata_and_unknown_fields_survive_a_fold()
    {
        using var dir = new TempDirectory();
        var model = ConvBnRelu();
        model.DocString = "model doc";
        model.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "tests" });
        model.Graph.DocString = "graph doc";
        model.Graph.Node[0].DocString = "conv doc";

        // Fields this schema does not declare: ModelProto.functions (25), GraphProto.quantization_annotation (14),
        // NodeProto.metadata_props (9) on the conv the fold edits.
        var function = Text(1, "marker_function");
        var annotation = Text(1, "marker_annotation");
        byte[] nodeMetadata = [.. Text(1, "marker_key"), .. Text(2, "marker_value")];
        var conv = model.Graph.Node[0].ToByteArray().Concat(Field(9, nodeMetadata)).ToArray();
        model.Graph.Node[0] = NodeProto.Parser.ParseFrom(conv);
        var graph = model.Graph.ToByteArray().Concat(Field(14, annotation)).ToArray();
        model.Graph = GraphProto.Parser.ParseFrom(graph);
        var bytes = model.ToByteArray().Concat(Field(25, function)).ToArray();

        var outcome = FoldAndWrite(dir, ModelProto.Parser.ParseFrom(bytes));

        var written = File.ReadAllBytes(outcome.WrittenPath);
        var proto = outcome.WrittenProto;
        Assert.AreEqual("model doc", proto.DocString);
        Assert.AreEqual("graph doc", proto.Graph.DocString);
        Assert.AreEqual("conv doc", proto.Graph.Node.Single(n => n.OpType == "Conv").DocString);
        Assert.AreEqual("tests", proto.MetadataProps.Single().Value);
        Assert.IsTrue(Contains(written, Field(25, function)), "ModelProto.functions");
        Assert.IsTrue(Contains(written, Field(14, annotation)), "GraphProto.quantization_annotation");
        Assert.IsTrue(Contains(written, Field(9, nodeMetadata)), "NodeProto.metadata_props of the edited conv");
        CollectionAssert.AreEqual(new[] { "Conv", "Relu" }, outcome.WrittenOps.ToArray());
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [TestMethod]
    public void A_split_read_as_one_slice_per_output_and_a_gather_are_written_back_as_the_files_nodes_and_run_in_onnx_runtime()
    {
        // conv → BN (folded) → Split [2, 4] → s1, s2; Gather(s2, [[3, 0], [1, 1]], axis 1) → g.
        using var dir = new TempDirectory();
        var model = Model(13,
            [
                Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)),
                BatchNorm("bn", "c", "b", "bn"),
                Node("Split", "split", ["b", "sizes"], ["s1", "s2"], Int("axis", 1)),
                Node("Gather", "pick", ["s2", "which"], ["g"], Int("axis", 1)),
            ],
            [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3), .. BatchNormParameters("bn", 6, 10), Int64s("sizes", 2, 4), Int64Matrix("which", [2, 2], 3, 0, 1, 1)],
            inputDims: [1, 3, 4, 4], outputs: ["s1", "g"]);
        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { "Conv", "Split", "Gather" }, outcome.WrittenOps.ToArray(), outcome.Events);
        Assert.AreEqual(2, outcome.Original.Graph.Nodes.Count(n => n.OpType == "StridedSlice"), "one canonical slice per output of the Split");
        CollectionAssert.AreEqual(new long[] { 2, 2 }, outcome.Original.Graph.Nodes.Single(n => n.OpType == "Gather").AttributesAs<GatherAttributes>().IndicesShape);
        OnnxChecker.Check(outcome.WrittenPath);

        // ONNX Runtime runs the written file; the reference executor runs the original as read.
        var x = RandomInput(Shape.Nchw(1, 3, 4, 4));
        var expected = Run(outcome.Original, x);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(outcome.WrittenPath);
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x.Data, [1, 3, 4, 4]))]);
        var s1 = results.Single(r => r.Name == "s1").AsTensor<float>();
        var g = results.Single(r => r.Name == "g").AsTensor<float>();
        CollectionAssert.AreEqual(new[] { 1, 2, 4, 4 }, s1.Dimensions.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2, 2, 4, 4 }, g.Dimensions.ToArray());
        AssertClose(expected[0], new NeuralBuild.Engine.Execution.Tensor(expected[0].Shape, s1.ToArray()), "s1");
        AssertClose(expected[1], new NeuralBuild.Engine.Execution.Tensor(expected[1].Shape, g.ToArray()), "g");
    }

    [TestMethod]
    public void Removed_nodes_are_dropped_and_a_model_output_keeps_its_name()
    {
        // conv → Dropout → Identity → y (the model output): the conv's output is renamed y.
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)), Node("Dropout", "drop", ["c"], ["d"]), Node("Identity", "id", ["d"], ["y"])],
            [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3)]);

        var outcome = FoldAndWrite(dir, model);

        var conv = outcome.WrittenProto.Graph.Node.Single();
        Assert.AreEqual("Conv", conv.OpType);
        Assert.AreEqual("y", conv.Output.Single());
        Assert.AreEqual("y", outcome.WrittenProto.Graph.Output.Single().Name);
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        AssertClose(Run(outcome.Original, x)[0], Run(outcome.Written, x)[0], "written file");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_cast_is_not_removed_with_the_identities()
    {
        // Cast to DOUBLE changes the element type of what its reader gets; only the Identity goes.
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)), Node("Identity", "id", ["c"], ["i"]), Node("Cast", "cast", ["i"], ["y"], Int("to", 11))],
            [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3)]);
        model.Graph.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 11, Shape = Value("y", [1, 6, 6, 6]).Type.TensorType.Shape } } });
        model.Graph.Output.RemoveAt(0);

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { "Conv", "Cast" }, outcome.WrittenOps.ToArray());
        StringAssert.Contains(outcome.Report.NotApplied.Single(e => e.Node == "cast").Detail, "changes the element type");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void An_output_that_cannot_take_its_producers_place_keeps_an_identity()
    {
        // y1 and y2 are both Identity(c): c is renamed y1, and y2 = Identity(y1). y3 = Identity(x) of the graph input.
        using var dir = new TempDirectory();
        var model = Model(13,
            [
                Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)),
                Node("Identity", "id1", ["c"], ["y1"]),
                Node("Identity", "id2", ["c"], ["y2"]),
                Node("Identity", "id3", ["x"], ["y3"]),
            ],
            [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3)],
            outputs: ["y1", "y2", "y3"]);

        var outcome = FoldAndWrite(dir, model);

        var nodes = outcome.WrittenProto.Graph.Node;
        CollectionAssert.AreEqual(new[] { "Conv", "Identity", "Identity" }, nodes.Select(n => n.OpType).ToArray());
        Assert.AreEqual("y1", nodes[0].Output.Single());
        Assert.AreEqual("y1 -> y2", $"{nodes[1].Input.Single()} -> {nodes[1].Output.Single()}");
        Assert.AreEqual("x -> y3", $"{nodes[2].Input.Single()} -> {nodes[2].Output.Single()}");
        CollectionAssert.AreEqual(new[] { "y1", "y2", "y3" }, outcome.WrittenProto.Graph.Output.Select(o => o.Name).ToArray());
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void Value_info_of_values_that_no_longer_exist_is_dropped_and_the_rest_kept()
    {
        using var dir = new TempDirectory();
        var model = ConvBnRelu();
        model.Graph.ValueInfo.Add(Value("c", [1, 6, 8, 8]));
        model.Graph.ValueInfo.Add(Value("b", [1, 6, 8, 8]));
        model.Graph.ValueInfo.Add(Value("not_in_the_graph", [1]));

        var outcome = FoldAndWrite(dir, model);

        CollectionAssert.AreEqual(new[] { "c", "not_in_the_graph" }, outcome.WrittenProto.Graph.ValueInfo.Select(v => v.Name).ToArray());
    }

    [TestMethod]
    public void Unused_initializers_and_dead_constants_go_and_initializers_unused_before_stay()
    {
        // conv → Mul by a Constant node's output: the fold leaves the Constant node and the conv's old
        // weights unread, so they go; "spare" was never read and stays.
        using var dir = new TempDirectory();
        var model = Model(13,
            [
                Node("Constant", "k", [], ["kv"], Tensor("value", Values("kv", [6, 1, 1], 1, 2, 3, 4, 5, 6))),
                Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)),
                Node("Mul", "mul", ["c", "kv"], ["y"]),
            ],
            [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3), Values("spare", [2], 1, 2)]);

        var outcome = FoldAndWrite(dir, model);

        var graph = outcome.WrittenProto.Graph;
        CollectionAssert.AreEqual(new[] { "Conv" }, graph.Node.Select(n => n.OpType).ToArray(), outcome.Events);
        CollectionAssert.AreEquivalent(new[] { "spare", "conv/folded_weights", "conv/folded_bias" }, graph.Initializer.Select(i => i.Name).ToArray());
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_new_initializer_never_takes_a_name_the_file_already_uses()
    {
        // The fold names the new weights "conv/folded_weights": here that is the Relu's output.
        using var dir = new TempDirectory();
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)), BatchNorm("bn", "c", "b", "bn"), Node("Relu", "relu", ["b"], ["conv/folded_weights"])],
            [Random("w", 1, -0.5, 0.5, 6, 3, 3, 3), .. BatchNormParameters("bn", 6, 10)],
            outputs: "conv/folded_weights");

        var outcome = FoldAndWrite(dir, model);

        var conv = outcome.WrittenProto.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.AreEqual("conv/folded_weights.2", conv.Input[1]);
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void A_shape_node_folded_at_read_time_follows_the_value_that_replaced_its_input()
    {
        // Shape(b) of the BatchNorm's output feeds a Reshape; after the fold it reads the conv's output.
        using var dir = new TempDirectory();
        var model = ConvBnRelu();
        model.Graph.Node[2].Output[0] = "r";
        model.Graph.Node.Add(Node("Shape", "shape", ["b"], ["s"]));
        model.Graph.Node.Add(Node("Reshape", "reshape", ["r", "s"], ["y"]));

        var outcome = FoldAndWrite(dir, model);

        var shape = outcome.WrittenProto.Graph.Node.Single(n => n.OpType == "Shape");
        Assert.AreEqual("c", shape.Input.Single());
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        AssertClose(Run(outcome.Original, x)[0], Run(outcome.Written, x)[0], "written file");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void An_ir_version_3_model_lists_initializers_among_its_inputs_before_and_after()
    {
        using var dir = new TempDirectory();
        var model = ConvBnRelu();
        model.IrVersion = 3;
        model.OpsetImport[0].Version = 8;
        foreach (var tensor in model.Graph.Initializer)
        {
            model.Graph.Input.Add(Value(tensor.Name, [.. tensor.Dims]));
        }

        var outcome = FoldAndWrite(dir, model);

        var graph = outcome.WrittenProto.Graph;
        CollectionAssert.AreEquivalent(graph.Initializer.Select(i => i.Name).Append("x").ToArray(), graph.Input.Select(i => i.Name).ToArray());
        OnnxChecker.Check(outcome.WrittenPath);
    }

    private static TensorProto Externally(TensorProto tensor, Stream data)
    {
        var external = new TensorProto { Name = tensor.Name, DataType = tensor.DataType, DataLocation = TensorProto.Types.DataLocation.External };
        external.Dims.AddRange(tensor.Dims);
        external.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        external.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = data.Position.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        external.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.RawData.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.RawData.WriteTo(data);
        return external;
    }

    /// <summary>Conv (16 x 3 x 3 x 3 = 1,728 bytes) → BN → Relu with every tensor in weights.bin beside the model.</summary>
    private static ModelProto ExternalModel(TempDirectory dir)
    {
        var model = Model(13,
            [Node("Conv", "conv", ["x", "w"], ["c"], Ints("kernel_shape", 3, 3)), BatchNorm("bn", "c", "b", "bn"), Node("Relu", "relu", ["b"], ["y"])],
            [Random("w", 1, -0.5, 0.5, 16, 3, 3, 3), .. BatchNormParameters("bn", 16, 10)]);
        using var data = File.Create(dir.Combine("weights.bin"));
        var tensors = model.Graph.Initializer.Select(t => Externally(t, data)).ToList();
        model.Graph.Initializer.Clear();
        model.Graph.Initializer.AddRange(tensors);
        return model;
    }

    [TestMethod]
    public void External_data_is_copied_beside_the_output_and_big_folded_tensors_join_it()
    {
        using var dir = new TempDirectory();

        var outcome = FoldAndWrite(dir, ExternalModel(dir));

        var graph = outcome.WrittenProto.Graph;
        var weights = graph.Initializer.Single(t => t.Name == graph.Node.Single(n => n.OpType == "Conv").Input[1]);
        var bias = graph.Initializer.Single(t => t.Name == graph.Node.Single(n => n.OpType == "Conv").Input[2]);
        Assert.AreEqual(TensorProto.Types.DataLocation.External, weights.DataLocation, "1,728 bytes: external like the rest of the model");
        Assert.AreEqual("net.onnx.data", weights.ExternalData.Single(e => e.Key == "location").Value);
        Assert.AreEqual(64, bias.RawData.Length, "a 64-byte bias is written inline");
        Assert.AreEqual(1728L, new FileInfo(Path.Combine(Path.GetDirectoryName(outcome.WrittenPath)!, "net.onnx.data")).Length);
        var x = RandomInput(outcome.Original.Graph.Inputs["x"]);
        AssertClose(Run(outcome.Original, x)[0], Run(outcome.Written, x)[0], "written file");
        OnnxChecker.Check(outcome.WrittenPath);
    }

    [TestMethod]
    public void External_data_round_trips_with_the_same_values_in_a_file_beside_the_output()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("net.onnx");
        File.WriteAllBytes(path, Typed(ExternalModel(dir), path).ToByteArray());
        var model = ModelFormats.Read(path);
        var output = Path.Combine(Directory.CreateDirectory(dir.Combine("out")).FullName, "net.onnx");

        new OnnxFormat().Write(model, output, output);

        var written = ModelFormats.Read(output);
        foreach (var (name, initializer) in model.Graph.Initializers)
        {
            CollectionAssert.AreEqual(initializer.Data!.ToArray(), written.Graph.Initializers[name].Data!.ToArray(), name);
        }

        Assert.AreEqual(new FileInfo(dir.Combine("weights.bin")).Length, new FileInfo(output + ".data").Length);
        OnnxChecker.Check(output);
    }

    [TestMethod]
    public void A_node_no_file_node_stands_for_is_refused_before_anything_is_written()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("net.onnx", ConvBnRelu().ToByteArray());
        var model = ModelFormats.Read(path);
        var relu = model.Graph.Nodes.Single(n => n.OpType == "Activation");
        model.Graph.Nodes.Add(new Node("extra", "Activation", [relu.Outputs[0]], ["extra"], relu.Origin, new Attributes().Set("function", "relu")));
        var output = dir.Combine("out.onnx");

        var e = Assert.ThrowsExactly<NotSupportedException>(() => new OnnxFormat().Write(model, output, output));

        StringAssert.Contains(e.Message, "'extra'");
        Assert.IsFalse(File.Exists(output));
    }

    /// <summary>Values that fail half way through being read.</summary>
    private sealed class FailingData(long count) : TensorData
    {
        public override long ElementCount => count;

        public override void CopyTo(Span<float> destination) => throw new IOException("the weights went away");
    }

    [TestMethod]
    public void A_failed_write_leaves_no_partial_file_and_an_existing_output_as_it_was()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("net.onnx", ConvBnRelu().ToByteArray());
        var model = ModelFormats.Read(path);
        PassManager.Run(model.Graph);
        var conv = model.Graph.Nodes.Single(n => n.OpType == "Conv");
        model.Graph.Initializers[conv.Inputs[1]].Data = new FailingData(6 * 3 * 3 * 3);
        var outputs = Directory.CreateDirectory(dir.Combine("out")).FullName;
        var fresh = Path.Combine(outputs, "fresh.onnx");
        var existing = Path.Combine(outputs, "existing.onnx");
        File.WriteAllText(existing, "previous build");

        // A file failure while writing is NM0070 naming the output (AtomicFiles, the writers' I/O boundary).
        var error = DiagnosticAssert.Throws(DiagnosticCodes.CannotWriteOutput, () => new OnnxFormat().Write(model, fresh, fresh));
        Assert.AreEqual(fresh, error.Location.File);
        Assert.Contains("the weights went away", error.Message);
        DiagnosticAssert.Throws(DiagnosticCodes.CannotWriteOutput, () => new OnnxFormat().Write(model, existing, existing));

        CollectionAssert.AreEqual(new[] { "existing.onnx" }, Directory.GetFiles(outputs).Select(Path.GetFileName).ToArray());
        Assert.AreEqual("previous build", File.ReadAllText(existing));
    }
}
