using System.Text.Json;
using Google.Protobuf;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Tool.Tests.Support;

namespace NeuralBuild.Tool.Tests.Commands;

/// <summary>
/// <c>dotnet neural inspect</c> in every output format, on the first worked example of
/// docs/metrics.md (224x224x3 -> 112x112x32, k=3, s=2), whose figures are computed by hand below.
/// </summary>
[TestClass]
public sealed class InspectCommandTests
{
    private const string Example = """
        [net]
        width=224
        height=224
        channels=3

        [convolutional]
        filters=32
        size=3
        stride=2
        pad=1
        activation=linear
        """;

    // By hand:
    //   params        3*3*3*32 weights + 32 biases                       = 896
    //   macc          3*3*3 * 112*112*32 = 27 * 401,408                  = 10,838,016
    //   flops         2 x macc (default convention)                      = 21,676,032
    //   memoryAccess  10,838,016 input reads + 401,408 output + 896      = 11,240,320
    //   activation    401,408 output floats x 4                          = 1,605,632 bytes
    //   peak          input 224*224*3*4 = 602,112 + output 1,605,632     = 2,207,744 bytes
    //   weightsBytes  896 x 4                                            = 3,584
    private const long Params = 896, Macc = 10_838_016, Flops = 21_676_032, MemoryAccess = 11_240_320;
    private const long ActivationBytes = 1_605_632, PeakActivationBytes = 2_207_744, WeightsBytes = 3_584;
    private const int ConvLine = 6;

    private static ToolRun Inspect(params string[] arguments)
    {
        using var temp = new TempDirectory();
        temp.WriteText("example.cfg", Example);
        var run = ToolProcess.Run(temp.Path, ["inspect", "example.cfg", .. arguments]);
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        Assert.AreEqual(string.Empty, run.Stderr, run.ToString());
        return run;
    }

    [TestMethod]
    public void Json_has_the_schema_version_totals_and_per_layer_figures()
    {
        using var json = JsonDocument.Parse(Inspect("--format", "json").Stdout);
        var root = json.RootElement;

        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual("default", root.GetProperty("convention").GetString());
        Assert.AreEqual("1x3x224x224", root.GetProperty("inputShape").GetString());

        var totals = root.GetProperty("totals");
        Assert.AreEqual(Params, totals.GetProperty("params").GetInt64());
        Assert.AreEqual(Macc, totals.GetProperty("macc").GetInt64());
        Assert.AreEqual(Flops, totals.GetProperty("flops").GetInt64());
        Assert.AreEqual(MemoryAccess, totals.GetProperty("memoryAccess").GetInt64());
        Assert.AreEqual(ActivationBytes, totals.GetProperty("activationBytes").GetInt64());
        Assert.AreEqual(PeakActivationBytes, totals.GetProperty("peakActivationBytes").GetInt64());
        Assert.AreEqual(WeightsBytes, totals.GetProperty("weightsBytes").GetInt64());

        var layers = root.GetProperty("layers");
        Assert.AreEqual(1, layers.GetArrayLength());
        var conv = layers[0];
        Assert.AreEqual("convolutional", conv.GetProperty("kind").GetString());
        Assert.AreEqual(ConvLine, conv.GetProperty("line").GetInt32());
        Assert.AreEqual("1x32x112x112", conv.GetProperty("outputShape").GetString());
        Assert.AreEqual(Params, conv.GetProperty("params").GetInt64());
        Assert.AreEqual(Macc, conv.GetProperty("macc").GetInt64());
        Assert.AreEqual(Flops, conv.GetProperty("flops").GetInt64());
        Assert.AreEqual(MemoryAccess, conv.GetProperty("memoryAccess").GetInt64());
        Assert.AreEqual(ActivationBytes, conv.GetProperty("activationBytes").GetInt64());
        Assert.AreEqual(WeightsBytes, conv.GetProperty("weightsBytes").GetInt64());
    }

    [TestMethod]
    public void Csv_has_a_header_and_one_row_per_layer()
    {
        var lines = Inspect("--format", "csv").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.HasCount(2, lines);
        var header = lines[0].Split(',');
        var row = lines[1].Split(',');
        Assert.HasCount(header.Length, row);
        string Field(string name) => row[Array.IndexOf(header, name)];
        Assert.AreEqual("convolutional", Field("kind"));
        Assert.AreEqual($"{ConvLine}", Field("line"));
        Assert.AreEqual("1x32x112x112", Field("outputShape"));
        Assert.AreEqual($"{Params}", Field("params"));
        Assert.AreEqual($"{Macc}", Field("macc"));
        Assert.AreEqual($"{Flops}", Field("flops"));
        Assert.AreEqual($"{MemoryAccess}", Field("memoryAccess"));
    }

    [TestMethod]
    public void Markdown_is_a_table_with_a_row_per_layer_and_the_totals()
    {
        var output = Inspect("--format", "md").Stdout;

        Assert.Contains("| # | kind | line | output |", output);
        Assert.Contains($"| 0 | convolutional | {ConvLine} | 1x32x112x112 | 896 | 10,838,016 | 21,676,032 | 11,240,320 |", output);
        Assert.Contains("| macc | 10.84 M (10,838,016) MAC |", output);
    }

    [TestMethod]
    public void Table_is_the_default_and_lists_layers_and_totals()
    {
        var output = Inspect().Stdout;

        Assert.AreEqual(output, Inspect("--format", "table").Stdout);
        var row = output.Split('\n').Single(l => l.Contains("convolutional", StringComparison.Ordinal));
        CollectionAssert.AreEqual(
            new[] { "0", "convolutional", $"{ConvLine}", "1x32x112x112", "896", "10,838,016", "21,676,032", "11,240,320" },
            row.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(8).ToArray());
        Assert.Contains("10.84 M (10,838,016) MAC", output);
        Assert.Contains("(2,207,744) at layer 0", output);
    }

    [TestMethod]
    public void A_batch_of_2_doubles_macc_and_flops()
    {
        // yolov3-tiny: darknet's published 5,564,961,792 FLOPs = 2 x 2,782,480,896 MACC per image.
        var cfg = TestPaths.Corpus("yolov3-tiny.cfg");
        using var temp = new TempDirectory();
        using var one = JsonDocument.Parse(ToolProcess.Run(temp.Path, "inspect", cfg, "--format", "json").Stdout);
        using var two = JsonDocument.Parse(ToolProcess.Run(temp.Path, "inspect", cfg, "--format", "json", "--input", "2x3x416x416").Stdout);

        Assert.AreEqual(2_782_480_896L, one.RootElement.GetProperty("totals").GetProperty("macc").GetInt64());
        Assert.AreEqual(2 * 2_782_480_896L, two.RootElement.GetProperty("totals").GetProperty("macc").GetInt64());
        Assert.AreEqual(2 * 5_564_961_792L, two.RootElement.GetProperty("totals").GetProperty("flops").GetInt64());
        Assert.AreEqual("2x3x416x416", two.RootElement.GetProperty("inputShape").GetString());
    }

    [TestMethod]
    public void The_convention_option_selects_the_counting_and_names_it()
    {
        // torchvision counts MACs as "FLOPs": the example's 10,838,016.
        using var json = JsonDocument.Parse(Inspect("--format", "json", "--convention", "torchvision").Stdout);

        Assert.AreEqual("torchvision", json.RootElement.GetProperty("convention").GetString());
        Assert.AreEqual(Macc, json.RootElement.GetProperty("totals").GetProperty("flops").GetInt64());
    }

    [TestMethod]
    public void An_unknown_convention_is_NM0004_with_exit_code_1()
    {
        using var temp = new TempDirectory();
        temp.WriteText("example.cfg", Example);

        var run = ToolProcess.Run(temp.Path, "inspect", "example.cfg", "--convention", "gflops");

        CommandRunnerTests.AssertOneErrorLine(run, "error NM0004: Unknown counting convention 'gflops'; known: default, darknet,");
    }

    [TestMethod]
    public void The_same_example_as_an_onnx_model_gives_the_same_figures()
    {
        // The worked example as ONNX: Conv 3->32, 3x3, stride 2, pads 1 (begin...end), with bias.
        var graph = new GraphProto { Name = "example" };
        var conv = new NodeProto { OpType = "Conv", Name = "conv" };
        conv.Input.AddRange(["image", "w", "b"]);
        conv.Output.Add("y");
        var pads = new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints };
        pads.Ints.AddRange([1, 1, 1, 1]);
        var strides = new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints };
        strides.Ints.AddRange([2, 2]);
        conv.Attribute.AddRange([pads, strides]);
        graph.Node.Add(conv);
        graph.Initializer.Add(FloatTensor("w", 32, 3, 3, 3));
        graph.Initializer.Add(FloatTensor("b", 32));
        var shape = new TensorShapeProto();
        foreach (var d in new long[] { 1, 3, 224, 224 })
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        graph.Input.Add(new ValueInfoProto { Name = "image", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });

        using var temp = new TempDirectory();
        File.WriteAllBytes(Path.Combine(temp.Path, "example.onnx"), model.ToByteArray());
        var run = ToolProcess.Run(temp.Path, ["inspect", "example.onnx", "--format", "json"]);
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var totals = json.RootElement.GetProperty("totals");
        Assert.AreEqual(Params, totals.GetProperty("params").GetInt64());
        Assert.AreEqual(Macc, totals.GetProperty("macc").GetInt64());
        Assert.AreEqual(Flops, totals.GetProperty("flops").GetInt64());
        Assert.AreEqual(MemoryAccess, totals.GetProperty("memoryAccess").GetInt64());
        Assert.AreEqual(WeightsBytes, totals.GetProperty("weightsBytes").GetInt64());
        Assert.AreEqual(PeakActivationBytes, totals.GetProperty("peakActivationBytes").GetInt64());
    }

    private static TensorProto FloatTensor(string name, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = 1 };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(new byte[dims.Aggregate(4L, (a, b) => a * b)]);
        return tensor;
    }
}
