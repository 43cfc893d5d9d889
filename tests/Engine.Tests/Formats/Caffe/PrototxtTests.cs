using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe;
using NeuralBuild.Engine.Formats.Caffe.Proto;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

[TestClass]
public sealed class PrototxtTests
{
    private static NetParameter Parse(string text) => PrototxtReader.Parse<NetParameter>("net.prototxt", text, out _);

    private static NeuralException Fails(string text) => CaffeFixture.Throws(() => Parse(text));

    public static IEnumerable<object[]> CorpusFiles =>
        Directory.GetFiles(TestPaths.CaffeCorpus, "*.prototxt").Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    [TestMethod]
    [DynamicData(nameof(CorpusFiles))]
    public void Every_corpus_prototxt_round_trips_through_the_writer(string file)
    {
        var path = Path.Combine(TestPaths.CaffeCorpus, file);
        var original = PrototxtReader.Parse<NetParameter>(path, File.ReadAllText(path), out _);
        var written = PrototxtWriter.Write(original);
        var reparsed = PrototxtReader.Parse<NetParameter>("rewritten.prototxt", written, out _);

        Assert.AreEqual(original, reparsed);
        Assert.AreEqual(written, PrototxtWriter.Write(reparsed), "the writer is stable: writing the re-read text gives the same text");
        Assert.IsGreaterThan(0, original.Layer.Count);
    }

    [TestMethod]
    public void Reads_every_spelling_the_text_format_allows()
    {
        var net = Parse("""
            # comment line
            name: "a" 'b' "\x41\101\n\t\"\\"   # adjacent strings concatenate
            input: "data", input: 'im'; # separators
            input_dim: [1, 0x3, 010, -0]
            state < phase: 0 level: -2 >
            layer: { name: "c" type: "Convolution"
              convolution_param { num_output: 7 bias_term: f pad: [] engine: CUDNN weight_filler { std: .5 mean: 1e-3 value: 2.5f min: -inf max: nan } }
            }
            layer [ { name: "x" }, { name: "y" propagate_down: True propagate_down: 0 } ]
            """);

        Assert.AreEqual("abAA\n\t\"\\", net.Name);
        CollectionAssert.AreEqual(new[] { "data", "im" }, net.Input.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 3, 8, 0 }, net.InputDim.ToArray());
        Assert.AreEqual(Phase.Train, net.State.Phase);
        Assert.AreEqual(-2, net.State.Level);
        Assert.AreEqual(3, net.Layer.Count);
        var conv = net.Layer[0].ConvolutionParam;
        Assert.AreEqual(7u, conv.NumOutput);
        Assert.IsFalse(conv.BiasTerm);
        Assert.IsTrue(conv.HasBiasTerm);
        Assert.AreEqual(0, conv.Pad.Count);
        Assert.AreEqual(ConvolutionParameter.Types.Engine.Cudnn, conv.Engine);
        Assert.AreEqual(0.5f, conv.WeightFiller.Std);
        Assert.AreEqual(1e-3f, conv.WeightFiller.Mean);
        Assert.AreEqual(2.5f, conv.WeightFiller.Value);
        Assert.AreEqual(float.NegativeInfinity, conv.WeightFiller.Min);
        Assert.IsTrue(float.IsNaN(conv.WeightFiller.Max));
        CollectionAssert.AreEqual(new[] { true, false }, net.Layer[2].PropagateDown.ToArray());
    }

    [TestMethod]
    public void The_source_map_locates_layers_and_values()
    {
        var net = PrototxtReader.Parse<NetParameter>("n.prototxt", "name: \"n\"\nlayer {\n  name: \"a\"\n  bottom: \"x\"   bottom: \"y\"\n}\n", out var map);
        Assert.AreEqual(new SourceLocation("n.prototxt", 2, 1), map.Of(net.Layer[0]));
        Assert.AreEqual(new SourceLocation("n.prototxt", 4, 11), map.Of(net.Layer[0], "bottom", 0));
        Assert.AreEqual(new SourceLocation("n.prototxt", 4, 25), map.Of(net.Layer[0], "bottom", 1));
    }

    [TestMethod]
    [DataRow("layer {\n  name: \"a\"\n", 1, 7, "not closed")]
    [DataRow("layer {\n  convolution_param { num_output 64 }\n}", 2, 34, "expected ':'")]
    [DataRow("input_dim: 3x\n", 1, 12, "not a number")]
    [DataRow("name: \"abc\n", 1, 7, "not closed")]
    [DataRow("name: \"a\\qb\"", 1, 9, "escape")]
    [DataRow("name: \"a\"\n  @", 2, 3, "unexpected character")]
    [DataRow("layer { name: \"a\" } }", 1, 21, "field name")]
    [DataRow("name: \"a\" name: \"b\"", 1, 11, "not a repeated field")]
    [DataRow("input_dim: 09", 1, 12, "octal")]
    [DataRow("input_dim: [1, 2", 1, 17, "expected ',' or ']'")]
    [DataRow("input_dim: 1e", 1, 12, "exponent")]
    [DataRow("layer \"x\"", 1, 7, "expected '{'")]
    public void Syntax_errors_are_NM0100_with_line_and_column(string text, int line, int column, string fragment)
    {
        var e = Fails(text);
        CaffeFixture.AssertAt(e, DiagnosticCodes.PrototxtSyntax, line, column);
        StringAssert.Contains(e.Message, fragment);
    }

    [TestMethod]
    [DataRow("layer { convolution_param { num_output: \"a\" } }", 1, 41)]
    [DataRow("layer { convolution_param { num_output: -1 } }", 1, 41)]
    [DataRow("layer { convolution_param { num_output: 4294967296 } }", 1, 41)]
    [DataRow("layer { convolution_param { num_output: 1.5 } }", 1, 41)]
    [DataRow("layer { pooling_param { pool: MIN } }", 1, 31)]
    [DataRow("layer { pooling_param { pool: 7 } }", 1, 31)]
    [DataRow("layer { convolution_param { bias_term: yes } }", 1, 40)]
    [DataRow("name: 3", 1, 7)]
    [DataRow("name: \"\\377\"", 1, 7)]
    public void Values_that_do_not_fit_their_field_are_NM0101(string text, int line, int column) =>
        CaffeFixture.AssertAt(Fails(text), DiagnosticCodes.PrototxtBadValue, line, column);

    [TestMethod]
    public void Unknown_field_names_are_NM0102_distinct_from_syntax_errors()
    {
        var e = Fails("layer {\n  convolution_param {\n    num_outputs: 3\n  }\n}");
        CaffeFixture.AssertAt(e, DiagnosticCodes.PrototxtUnknownField, 3, 5);
        StringAssert.Contains(e.Message, "caffe.ConvolutionParameter has no field 'num_outputs'");
    }

    [TestMethod]
    public void Writer_emits_two_space_indented_fields_in_declaration_order()
    {
        var net = new NetParameter { Name = "t" };
        net.Input.Add("data");
        net.InputShape.Add(new BlobShape { Dim = { 1, 3 } });
        var layer = new LayerParameter { Name = "c\"1", Type = "Convolution", ConvolutionParam = new ConvolutionParameter { NumOutput = 8, BiasTerm = true } };
        layer.Top.Add("c");
        layer.Bottom.Add("data");
        layer.ConvolutionParam.KernelSize.Add(3);
        layer.Param.Add(new ParamSpec { LrMult = 0.1f, DecayMult = 1e-5f });
        layer.PoolingParam = new PoolingParameter { Pool = PoolingParameter.Types.PoolMethod.Ave };
        net.Layer.Add(layer);

        const string expected = """
            name: "t"
            input: "data"
            input_shape {
              dim: 1
              dim: 3
            }
            layer {
              name: "c\"1"
              type: "Convolution"
              bottom: "data"
              top: "c"
              param {
                lr_mult: 0.1
                decay_mult: 1e-05
              }
              convolution_param {
                num_output: 8
                bias_term: true
                kernel_size: 3
              }
              pooling_param {
                pool: AVE
              }
            }

            """;
        Assert.AreEqual(expected.Replace("\r\n", "\n", StringComparison.Ordinal), PrototxtWriter.Write(net));
    }

    [TestMethod]
    [DataRow(0.1f, "0.1")]
    [DataRow(1e-5f, "1e-05")]
    [DataRow(2f, "2")]
    [DataRow(-0.75f, "-0.75")]
    [DataRow(3.4028235e38f, "3.4028235e+38")]
    [DataRow(float.PositiveInfinity, "inf")]
    [DataRow(float.NegativeInfinity, "-inf")]
    public void Floats_are_written_in_their_shortest_round_trip_form(float value, string text) =>
        Assert.AreEqual(text, PrototxtWriter.FormatFloat(value));

    [TestMethod]
    public void Float_fields_read_back_bit_for_bit()
    {
        var filler = new FillerParameter();
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var value = BitConverter.Int32BitsToSingle(random.Next());
            if (!float.IsFinite(value))
            {
                continue;
            }

            filler.Std = value;
            var back = PrototxtReader.Parse<FillerParameter>("f", PrototxtWriter.Write(filler), out _);
            Assert.AreEqual(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(back.Std), $"{value:R}");
        }
    }

    [TestMethod]
    public void Strings_with_escapes_and_non_ascii_round_trip()
    {
        var net = new NetParameter { Name = "tab\there \"quoted\" back\\slash \u0001 café" };
        var text = PrototxtWriter.Write(net);
        Assert.AreEqual("name: \"tab\\there \\\"quoted\\\" back\\\\slash \\001 café\"\n", text);
        Assert.AreEqual(net.Name, Parse(text).Name);
    }
}
