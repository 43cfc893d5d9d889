using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

/// <summary>
/// Integer fields of a prototxt that parse (they fit their protobuf type) but that no network
/// needs or Caffe itself refuses: each is NM0115 (NM0111 for inputs) at the line and column of the
/// value, with the rule it breaks. A layer under test is the fourth line after a 1x3x16x16 input;
/// <c>VAL</c> in a template marks the value, and the expected column is where <c>VAL</c> stands.
/// </summary>
[TestClass]
public sealed class CaffeParameterRangeTests
{
    private const string Input = "name: \"t\"\ninput: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 16 dim: 16 }\n";

    private static NeuralException Refused(string layer, string value, DiagnosticDescriptor code)
    {
        using var fixture = new CaffeFixture();
        var prototxt = Input + layer.Replace("VAL", value, StringComparison.Ordinal) + "\n";
        var e = CaffeFixture.Throws(() => fixture.ReadText(prototxt));
        CaffeFixture.AssertAt(e, code, 4, layer.IndexOf("VAL", StringComparison.Ordinal) + 1);
        return e;
    }

    private static readonly string[] s_sizeFields =
    [
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: VAL kernel_size: 1 } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: VAL } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 3 kernel_size: VAL } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 1 stride: VAL } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 1 pad: VAL } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 3 dilation: VAL } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_h: 1 kernel_w: VAL } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 1 stride_h: VAL stride_w: 1 } }",
        "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 4 kernel_size: 1 pad_w: VAL } }",
        "layer { name: \"d\" type: \"Deconvolution\" bottom: \"data\" top: \"d\" convolution_param { num_output: VAL kernel_size: 2 } }",
        "layer { name: \"d\" type: \"Deconvolution\" bottom: \"data\" top: \"d\" convolution_param { num_output: 4 kernel_size: 2 stride: VAL } }",
        "layer { name: \"f\" type: \"InnerProduct\" bottom: \"data\" top: \"f\" inner_product_param { num_output: VAL } }",
        "layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" pooling_param { pool: MAX kernel_size: VAL } }",
        "layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" pooling_param { pool: AVE kernel_size: 2 stride: VAL } }",
        "layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" pooling_param { pool: MAX kernel_h: 2 kernel_w: VAL } }",
        "layer { name: \"n\" type: \"LRN\" bottom: \"data\" top: \"n\" lrn_param { local_size: VAL } }",
        "layer { name: \"o\" type: \"DetectionOutput\" bottom: \"data\" bottom: \"data\" bottom: \"data\" top: \"o\" detection_output_param { num_classes: VAL } }",
    ];

    // 2^20 + 1 (odd, so LRN's odd-size rule passes), int.MaxValue, uint.MaxValue: all fit uint32.
    public static IEnumerable<object[]> TooLarge =>
        from layer in s_sizeFields
        from value in new[] { "1048577", "2147483647", "4294967295" }
        select new object[] { layer, value };

    [TestMethod]
    [DynamicData(nameof(TooLarge))]
    public void A_size_above_2_to_the_20_is_refused_at_the_value(string layer, string value)
    {
        var e = Refused(layer, value, DiagnosticCodes.CaffeInvalidParameter);

        var field = layer[..layer.IndexOf(": VAL", StringComparison.Ordinal)].Split(' ')[^1];
        StringAssert.Contains(e.Message, $"{field} {value} is too large: at most 1,048,576 (2^20)");
    }

    [TestMethod]
    public void A_pooling_window_of_more_than_2_to_the_31_elements_is_refused_at_the_kernel()
    {
        // 46341^2 = 2,147,488,281 > 2^31 - 1 = 2,147,483,647.
        var e = Refused("layer { name: \"p\" type: \"Pooling\" bottom: \"data\" top: \"p\" pooling_param { pool: MAX kernel_size: VAL } }", "46341", DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, "the 46341x46341 window covers more than 2,147,483,647");
    }

    [TestMethod]
    [DataRow("layer { name: \"k\" type: \"Concat\" bottom: \"data\" bottom: \"data\" top: \"k\" concat_param { axis: VAL } }", "4", "axis 4 does not exist in the bottom 1x3x16x16 (Caffe accepts -4 to 3)")]
    [DataRow("layer { name: \"k\" type: \"Concat\" bottom: \"data\" bottom: \"data\" top: \"k\" concat_param { axis: VAL } }", "-5", "axis -5 does not exist")]
    [DataRow("layer { name: \"k\" type: \"Concat\" bottom: \"data\" bottom: \"data\" top: \"k\" concat_param { concat_dim: VAL } }", "7", "concat_dim 7 does not exist")]
    [DataRow("layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" slice_param { axis: VAL } }", "4", "axis 4 does not exist")]
    [DataRow("layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" slice_param { slice_dim: VAL } }", "2147483647", "slice_dim 2147483647 does not exist")]
    [DataRow("layer { name: \"f\" type: \"Flatten\" bottom: \"data\" top: \"f\" flatten_param { axis: VAL } }", "4", "axis 4 does not exist")]
    [DataRow("layer { name: \"f\" type: \"Flatten\" bottom: \"data\" top: \"f\" flatten_param { end_axis: VAL } }", "-5", "end_axis -5 does not exist")]
    [DataRow("layer { name: \"f\" type: \"Flatten\" bottom: \"data\" top: \"f\" flatten_param { axis: 2 end_axis: VAL } }", "1", "end_axis 1 comes before axis 2")]
    [DataRow("layer { name: \"x\" type: \"Softmax\" bottom: \"data\" top: \"x\" softmax_param { axis: VAL } }", "4", "axis 4 does not exist")]
    [DataRow("layer { name: \"x\" type: \"Softmax\" bottom: \"data\" top: \"x\" softmax_param { axis: VAL } }", "-2147483648", "axis -2147483648 does not exist")]
    public void An_axis_the_bottom_lacks_is_refused_at_the_value(string layer, string value, string message)
    {
        var e = Refused(layer, value, DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, message);
    }

    private const string Slice3 = "layer { name: \"s\" type: \"Slice\" bottom: \"data\" top: \"a\" top: \"b\" top: \"c\" slice_param { axis: 2 ";

    [TestMethod]
    [DataRow(Slice3 + "slice_point: VAL slice_point: 8 } }", "0", "slice_point 0 must lie after 0 and before 16")]
    [DataRow(Slice3 + "slice_point: 8 slice_point: VAL } }", "8", "slice_point 8 must lie after 8 and before 16")] // not increasing
    [DataRow(Slice3 + "slice_point: 8 slice_point: VAL } }", "4", "slice_point 4 must lie after 8")] // out of order
    [DataRow(Slice3 + "slice_point: 8 slice_point: VAL } }", "16", "slice_point 16 must lie after 8 and before 16")] // an empty last slice
    [DataRow(Slice3 + "slice_point: 8 slice_point: VAL } }", "4294967295", "slice_point 4294967295 must lie after 8 and before 16")]
    public void Slice_points_out_of_order_or_outside_the_axis_are_refused_at_the_point(string layer, string value, string message)
    {
        var e = Refused(layer, value, DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, message);
    }

    [TestMethod]
    public void Slice_points_must_number_one_fewer_than_the_tops()
    {
        var e = Refused(Slice3 + "slice_point: VAL } }", "8", DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, "1 slice_point(s) for 3 tops");
    }

    private const string Permute = "layer { name: \"p\" type: \"Permute\" bottom: \"data\" top: \"p\" permute_param { order: 0 ";

    [TestMethod]
    [DataRow(Permute + "order: VAL } }", "4", "order 4 is not an axis of the bottom 1x3x16x16")]
    [DataRow(Permute + "order: VAL } }", "0", "order 0 is given twice")]
    [DataRow(Permute + "order: 3 order: 2 order: 1 order: VAL } }", "3", "order 3 is given twice")]
    public void A_permute_order_naming_a_missing_or_repeated_axis_is_refused_at_it(string layer, string value, string message)
    {
        var e = Refused(layer, value, DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, message);
    }

    private const string Reshape = "layer { name: \"r\" type: \"Reshape\" bottom: \"data\" top: \"r\" reshape_param { ";

    [TestMethod]
    [DataRow(Reshape + "shape { dim: 0 dim: VAL } } }", "-2", "dim -2: a dim is 0 (copy the bottom's), -1 (infer) or a size of at most 2,147,483,647")]
    [DataRow(Reshape + "shape { dim: 0 dim: VAL } } }", "2147483648", "dim 2147483648: a dim is 0")]
    [DataRow(Reshape + "shape { dim: 0 dim: -1 dim: VAL } } }", "-1", "only one dim may be -1")]
    [DataRow(Reshape + "shape { dim: -1 } axis: VAL } }", "5", "axis 5 is outside -5 to 4 for the bottom 1x3x16x16")]
    [DataRow(Reshape + "shape { dim: -1 } axis: VAL } }", "-6", "axis -6 is outside")]
    [DataRow(Reshape + "shape { dim: -1 } axis: 2 num_axes: VAL } }", "3", "num_axes 3 selects axes beyond the 4")]
    [DataRow(Reshape + "shape { dim: -1 } num_axes: VAL } }", "-2", "num_axes -2 selects axes")]
    public void Reshape_dims_and_axes_are_checked_at_the_value(string layer, string value, string message)
    {
        var e = Refused(layer, value, DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, message);
    }

    [TestMethod]
    public void A_reshape_to_more_than_32_axes_is_refused_at_the_33rd_dim()
    {
        // Caffe's kMaxBlobAxes is 32: the 33rd dim is the one refused (32 dims of 1, then 768 = 3 x 16 x 16).
        var dims = string.Concat(Enumerable.Repeat("dim: 1 ", 32));
        var e = Refused(Reshape + "shape { " + dims + "dim: VAL } } }", "768", DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, "33 dims; a Caffe blob has at most 32 axes");
    }

    private const string Detection = "layer { name: \"o\" type: \"DetectionOutput\" bottom: \"data\" bottom: \"data\" bottom: \"data\" top: \"o\" detection_output_param { num_classes: 3 ";

    [TestMethod]
    [DataRow(Detection + "background_label_id: VAL } }", "3", "background_label_id 3 is not one of the 3 classes (or -1 for none)")]
    [DataRow(Detection + "background_label_id: VAL } }", "-2", "background_label_id -2 is not one of")]
    [DataRow(Detection + "keep_top_k: VAL } }", "-2", "keep_top_k -2 must be -1 (keep all) or a count")]
    [DataRow(Detection + "nms_param { top_k: VAL } } }", "-2", "top_k -2 must be -1 (all) or a count")]
    public void Detection_output_counts_and_labels_are_checked_at_the_value(string layer, string value, string message)
    {
        var e = Refused(layer, value, DiagnosticCodes.CaffeInvalidParameter);

        StringAssert.Contains(e.Message, message);
    }

    // ---------------------------------------------------------------------------------------
    // Inputs.

    [TestMethod]
    [DataRow("input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 16 dim: VAL }\n", "1048577")]
    [DataRow("input: \"data\"\ninput_dim: 1\ninput_dim: VAL\ninput_dim: 16\ninput_dim: 16\n", "2147483647")]
    [DataRow("layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 1 dim: VAL dim: 16 dim: 16 } } }\n", "9223372036854775807")]
    [DataRow("layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 1 dim: VAL dim: 16 dim: 16 } } }\n", "-9223372036854775808")]
    public void An_input_dimension_out_of_range_is_refused_at_that_dim(string declaration, string value)
    {
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => fixture.ReadText(declaration.Replace("VAL", value, StringComparison.Ordinal) + "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n"));

        var lines = declaration.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("VAL", StringComparison.Ordinal));
        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeBadInput, line + 1, lines[line].IndexOf("VAL", StringComparison.Ordinal) + 1);
        StringAssert.Contains(e.Message, value.StartsWith('-') ? "every dimension must be positive" : $"({value}) is too large: at most 1,048,576 (2^20)");
    }

    [TestMethod]
    public void An_input_of_more_than_32_axes_is_refused_at_the_33rd_dim()
    {
        using var fixture = new CaffeFixture();
        var prototxt = "input: \"data\"\ninput_shape { " + string.Concat(Enumerable.Repeat("dim: 1 ", 33)) + "}\nlayer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n";

        var e = CaffeFixture.Throws(() => fixture.ReadText(prototxt));

        // "input_shape { " is 14 characters, each "dim: 1 " 7: the 33rd value stands at 14 + 32 x 7 + 6 = 244.
        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeBadInput, 2, 244);
        StringAssert.Contains(e.Message, "33 dimensions; a Caffe blob has at most 32 axes");
    }

    // ---------------------------------------------------------------------------------------
    // Blobs beyond 2^31 - 1 elements (NM0118), at the layer or input that makes them.

    [TestMethod]
    public void An_input_of_more_than_2_to_the_31_elements_is_refused_at_the_input()
    {
        // 3 x 32768 x 32768 = 3,221,225,472.
        using var fixture = new CaffeFixture();
        var e = CaffeFixture.Throws(() => fixture.ReadText("input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 32768 dim: 32768 }\nlayer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n"));

        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeBlobTooLarge, 1, 8);
        StringAssert.Contains(e.Message, "input 'data' 1x3x32768x32768 has 3,221,225,472 elements");
    }

    [TestMethod]
    public void Weights_of_more_than_2_to_the_31_elements_are_refused_at_the_layer()
    {
        // 1,048,576 outputs x (3 x 32 x 32 = 3072) inputs = 3,221,225,472 weights.
        using var fixture = new CaffeFixture();
        var prototxt = "input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 32 dim: 32 }\nlayer { name: \"fc\" type: \"InnerProduct\" bottom: \"data\" top: \"fc\" inner_product_param { num_output: 1048576 } }\n";

        var e = CaffeFixture.Throws(() => fixture.ReadText(prototxt));

        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeBlobTooLarge, 3, 1);
        StringAssert.Contains(e.Message, "layer 'fc' [InnerProduct] weights 1048576x3072 has 3,221,225,472 elements");
    }

    [TestMethod]
    public void A_top_of_more_than_2_to_the_31_elements_is_refused_at_the_layer()
    {
        // 65536 maps of 256 x 256 (pad 1 keeps the size) = 4,294,967,296.
        using var fixture = new CaffeFixture();
        var prototxt = "input: \"data\"\ninput_shape { dim: 1 dim: 3 dim: 256 dim: 256 }\nlayer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param { num_output: 65536 kernel_size: 3 pad: 1 } }\n";

        var e = CaffeFixture.Throws(() => fixture.ReadText(prototxt));

        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeBlobTooLarge, 3, 1);
        StringAssert.Contains(e.Message, "layer 'c' [Convolution] top 'c' 1x65536x256x256 has 4,294,967,296 elements");
    }

    [TestMethod]
    public void A_huge_keep_top_k_sizes_the_detections_by_the_boxes_and_classes_as_Caffe_can_at_most_find()
    {
        // 16x16 feature map x 4 priors (min, max, ratio 2 and its flip) = 1024 boxes x 3 classes =
        // 3072 rows of 7 values at most, whatever keep_top_k allows.
        const string ssd = """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
            layer { name: "loc" type: "Convolution" bottom: "conv" top: "loc" convolution_param { num_output: 16 kernel_size: 1 } }
            layer { name: "locp" type: "Permute" bottom: "loc" top: "locp" permute_param { order: 0 order: 2 order: 3 order: 1 } }
            layer { name: "locf" type: "Flatten" bottom: "locp" top: "locf" }
            layer { name: "conf" type: "Convolution" bottom: "conv" top: "conf" convolution_param { num_output: 12 kernel_size: 1 } }
            layer { name: "confp" type: "Permute" bottom: "conf" top: "confp" permute_param { order: 0 order: 2 order: 3 order: 1 } }
            layer { name: "conff" type: "Flatten" bottom: "confp" top: "conff" }
            layer { name: "pb" type: "PriorBox" bottom: "conv" bottom: "data" top: "pb" prior_box_param { min_size: 8 max_size: 16 aspect_ratio: 2 flip: true } }
            layer { name: "det" type: "DetectionOutput" bottom: "locf" bottom: "conff" bottom: "pb" top: "det" detection_output_param { num_classes: 3 keep_top_k: 2147483647 } }
            """;
        using var fixture = new CaffeFixture();

        var model = fixture.ReadText(ssd);

        Assert.AreEqual(new Shape(1, 1, 3072, 7), ShapeInference.Run(model.Graph)[model.Graph.Nodes.Single(n => n.Name == "det").Outputs[0]]);
    }

    // ---------------------------------------------------------------------------------------
    // Bounded work on enormous inputs.

    [TestMethod]
    public void Two_hundred_thousand_input_dims_are_refused_by_count_not_walked()
    {
        using var fixture = new CaffeFixture();
        var prototxt = "input: \"data\"\n" + string.Concat(Enumerable.Repeat("input_dim: 1\n", 200_000)) + "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n";

        var e = CaffeFixture.Throws(() => fixture.ReadText(prototxt));

        CaffeFixture.AssertAt(e, DiagnosticCodes.CaffeBadInput, 2, 12);
        StringAssert.Contains(e.Message, "need 4 input_dim values (num, channels, height, width each) but 200000 are given");
    }

    [TestMethod]
    public void Deep_nesting_ends_at_the_first_field_the_schema_lacks()
    {
        // Caffe's schema has no recursive message, so nesting is as deep as the schema: the
        // second "layer {" is not a field of LayerParameter.
        using var fixture = new CaffeFixture();
        var prototxt = string.Concat(Enumerable.Repeat("layer { ", 100_000));

        var e = CaffeFixture.Throws(() => fixture.ReadText(prototxt));

        CaffeFixture.AssertAt(e, DiagnosticCodes.PrototxtUnknownField, 1, 9);
    }
}
