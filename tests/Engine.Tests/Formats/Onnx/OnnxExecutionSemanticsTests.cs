using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// ONNX semantics the backend node tests (OnnxBackendNodeTests) do not reach: opsets other than the
/// one ONNX 1.12 saved its tests at (Softmax before 13, Clip before 11, Upsample, opset 18 inputs),
/// broadcasting cases they lack, and the combinations the reader refuses (NM0209) because the
/// executor would not compute them as ONNX does. Expected values are worked out by hand in comments.
/// </summary>
[TestClass]
public sealed class OnnxExecutionSemanticsTests
{
    private static TensorProto Values(string name, long[] dims, params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
        }

        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static TensorProto Bool(string name, bool value)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Bool };
        t.Int32Data.Add(value ? 1 : 0);
        return t;
    }

    /// <summary>Reads the model (input x of <paramref name="dims"/>) and runs it on <paramref name="x"/>.</summary>
    private static float[] Execute(ModelProto model, long[] dims, params float[] x)
    {
        var read = Read(model);
        var y = new ReferenceExecutor(read.Graph).Run(new Dictionary<string, Tensor> { ["x"] = new(new Shape(dims), x) })["y"];
        return y.Data;
    }

    private static void AreClose(float[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 1e-6f, $"element {i}: [{string.Join(", ", actual)}]");
        }
    }

    [TestMethod]
    public void Softmax_before_opset_13_normalises_all_axes_from_axis_on_together()
    {
        // x = ln 1, ln 2, ln 3, ln 4 as 1x2x1x2. Opset 11, axis 1: one softmax over all four values
        // (1, 2, 3, 4)/10. Opset 13, axis 1: over the channels at each position, (1, 3)/4 and (2, 4)/6.
        float[] x = [0f, MathF.Log(2), MathF.Log(3), MathF.Log(4)];
        long[] dims = [1, 2, 1, 2];
        var old = Execute(Model(11, [Node("Softmax", "s", ["x"], ["y"], Int("axis", 1))], inputDims: dims), dims, x);
        AreClose([0.1f, 0.2f, 0.3f, 0.4f], old);
        var current = Execute(Model(13, [Node("Softmax", "s", ["x"], ["y"], Int("axis", 1))], inputDims: dims), dims, x);
        AreClose([0.25f, 2f / 6, 0.75f, 4f / 6], current);
    }

    [TestMethod]
    public void PRelu_slope_broadcasts_from_the_last_axis_not_per_channel()
    {
        // x: 1x2x1x2 of -1; slope (2) = [0.1, 0.2] aligns with the last axis (W), so each channel
        // gets -0.1, -0.2; a per-channel reading would give -0.1, -0.1, -0.2, -0.2.
        long[] dims = [1, 2, 1, 2];
        var model = Model(16, [Node("PRelu", "p", ["x", "slope"], ["y"])], [Values("slope", [2], 0.1f, 0.2f)], inputDims: dims);
        AreClose([-0.1f, -0.2f, -0.1f, -0.2f], Execute(model, dims, -1, -1, -1, -1));
        var perChannel = Model(16, [Node("PRelu", "p", ["x", "slope"], ["y"])], [Values("slope", [2, 1, 1], 0.1f, 0.2f)], inputDims: dims);
        AreClose([-0.1f, -0.1f, -0.2f, -0.2f], Execute(perChannel, dims, -1, -1, -1, -1));
    }

    [TestMethod]
    public void PRelu_slope_that_does_not_broadcast_is_refused() =>
        DiagnosticAssert.Throws(DiagnosticCodes.ParameterShapeMismatch, () => Read(Model(16, [Node("PRelu", "p", ["x", "slope"], ["y"])], [Values("slope", [3, 1], 1, 2, 3)])));

    [TestMethod]
    public void Clip_before_opset_11_reads_min_and_max_attributes()
    {
        long[] dims = [1, 1, 1, 4];
        var min = new AttributeProto { Name = "min", Type = AttributeProto.Types.AttributeType.Float, F = -1 };
        var max = new AttributeProto { Name = "max", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f };
        AreClose([-1, -0.5f, 0.25f, 0.5f], Execute(Model(10, [Node("Clip", "c", ["x"], ["y"], min, max)], inputDims: dims), dims, -3, -0.5f, 0.25f, 2));
    }

    [TestMethod]
    public void Upsample_linear_interpolates_at_output_over_scale()
    {
        // Upsample-9, scale 2 along W: positions 0, 0.5, 1, 1.5 of [1, 2] read 1, 1.5, 2 and 2 (the
        // last clamps at the border).
        long[] dims = [1, 1, 1, 2];
        var model = Model(9, [Node("Upsample", "u", ["x", "scales"], ["y"], Text("mode", "linear"))], [Values("scales", [4], 1, 1, 1, 2)], inputDims: dims);
        AreClose([1, 1.5f, 2, 2], Execute(model, dims, 1, 2));
    }

    [TestMethod]
    public void Upsample_nearest_repeats_by_floor_of_output_over_scale()
    {
        // Scale 3 along W: positions 0, 1/3, 2/3, 1, 4/3, 5/3 floor to 0, 0, 0, 1, 1, 1.
        long[] dims = [1, 1, 1, 2];
        var model = Model(9, [Node("Upsample", "u", ["x", "scales"], ["y"])], [Values("scales", [4], 1, 1, 1, 3)], inputDims: dims);
        AreClose([1, 1, 1, 2, 2, 2], Execute(model, dims, 1, 2));
    }

    [TestMethod]
    public void Resize_10_nearest_downsampling_is_refused() =>
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(10, [Node("Resize", "r", ["x", "scales"], ["y"])], [Values("scales", [4], 1, 1, 0.5f, 0.5f)])));

    [TestMethod]
    public void Resize_tf_crop_and_resize_with_scales_is_refused() =>
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(13,
            [Node("Resize", "r", ["x", "roi", "scales"], ["y"], Text("coordinate_transformation_mode", "tf_crop_and_resize"), Text("mode", "linear"))],
            [Values("roi", [8], 0, 0, 0, 0, 1, 1, 1, 1), Values("scales", [4], 1, 1, 2, 2)])));

    [TestMethod]
    [DataRow("antialias")]
    [DataRow("keep_aspect_ratio_policy")]
    [DataRow("coordinate_transformation_mode")]
    public void Resize_options_the_executor_lacks_are_refused(string option)
    {
        var attribute = option switch
        {
            "antialias" => Int("antialias", 1),
            "keep_aspect_ratio_policy" => Text("keep_aspect_ratio_policy", "not_larger"),
            _ => Text("coordinate_transformation_mode", "half_pixel_symmetric"),
        };
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(18,
            [Node("Resize", "r", ["x", string.Empty, "scales"], ["y"], attribute)], [Values("scales", [4], 1, 1, 2, 2)])));
    }

    [TestMethod]
    public void Resize_18_axes_name_the_resized_axes()
    {
        // Sizes for axes [3, 2] only: W becomes 4, H 1 (nearest, asymmetric: H reads row 0, W
        // positions 0, 0.5, 1, 1.5 floor to 0, 0, 1, 1).
        long[] dims = [1, 1, 2, 2];
        var model = Model(18,
            [Node("Resize", "r", ["x", string.Empty, string.Empty, "sizes"], ["y"], Ints("axes", 3, 2), Text("coordinate_transformation_mode", "asymmetric"), Text("nearest_mode", "floor"))],
            [Int64s("sizes", 4, 1)], inputDims: dims);
        AreClose([1, 1, 2, 2], Execute(model, dims, 1, 2, 3, 4));
    }

    [TestMethod]
    public void Pad_18_axes_pad_only_the_listed_axes_with_the_constant_value()
    {
        // pads for axis 3 only: one before, two after, value 9.
        long[] dims = [1, 1, 1, 2];
        var model = Model(18, [Node("Pad", "p", ["x", "pads", "value", "axes"], ["y"])],
            [Int64s("pads", 1, 2), Values("value", [], 9), Int64s("axes", -1)], inputDims: dims);
        AreClose([9, 1, 2, 9, 9], Execute(model, dims, 1, 2));
    }

    [TestMethod]
    public void Pad_before_opset_11_reads_the_value_attribute()
    {
        long[] dims = [1, 1, 1, 2];
        var value = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Float, F = 7 };
        AreClose([7, 1, 2], Execute(Model(10, [Node("Pad", "p", ["x"], ["y"], Ints("pads", 0, 0, 0, 1, 0, 0, 0, 0), value)], inputDims: dims), dims, 1, 2));
    }

    [TestMethod]
    public void Pad_reflect_mirrors_without_repeating_the_border_periodically()
    {
        // numpy's reflect of [1, 2, 3] by 4 on each side continues the mirror images with period 4:
        // ... 1 2 3 2 | 1 2 3 | 2 1 2 3 ...
        long[] dims = [1, 1, 1, 3];
        var model = Model(13, [Node("Pad", "p", ["x", "pads"], ["y"], Text("mode", "reflect"))], [Int64s("pads", 0, 0, 0, 4, 0, 0, 0, 4)], inputDims: dims);
        AreClose([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3], Execute(model, dims, 1, 2, 3));
    }

    [TestMethod]
    [DataRow("wrap")]
    [DataRow("symmetric")]
    public void Pad_modes_outside_the_opset_range_are_refused(string mode) =>
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(13, [Node("Pad", "p", ["x", "pads"], ["y"], Text("mode", mode))], [Int64s("pads", 0, 0, 1, 1, 0, 0, 1, 1)])));

    [TestMethod]
    public void ReduceMean_18_empty_axes_reduce_everything_unless_noop()
    {
        long[] dims = [1, 1, 1, 4];
        var empty = new TensorProto { Name = "axes", DataType = (int)TensorProto.Types.DataType.Int64 };
        empty.Dims.Add(0);
        var all = Model(18, [Node("ReduceMean", "m", ["x", "axes"], ["y"], Int("keepdims", 0))], [empty], inputDims: dims);
        AreClose([2.5f], Execute(all, dims, 1, 2, 3, 4));
        var noop = Model(18, [Node("ReduceMean", "m", ["x", "axes"], ["y"], Int("noop_with_empty_axes", 1))], [empty], inputDims: dims);
        AreClose([1, 2, 3, 4], Execute(noop, dims, 1, 2, 3, 4));
    }

    [TestMethod]
    public void AveragePool_ceil_mode_with_count_include_pad_is_refused_only_when_a_window_passes_the_end_padding()
    {
        // 8 wide, kernel 3, stride 2, pads 1: floor gives 4 windows, ceil 5 (the last starts at 7,
        // inside the image, and reaches 9, past the end padding): refused. With kernel 2 floor and
        // ceil both give 5 windows: no window passes the padding, so it is read.
        AttributeProto[] common = [Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1), Int("count_include_pad", 1)];
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(13, [Node("AveragePool", "p", ["x"], ["y"], [Ints("kernel_shape", 3, 3), .. common])])));
        Assert.AreEqual(1L, Read(Model(13, [Node("AveragePool", "p", ["x"], ["y"], [Ints("kernel_shape", 2, 2), .. common])])).Graph.Nodes[0].Attributes.Int("count_include_pad"));
    }

    [TestMethod]
    public void Dropout_in_training_mode_is_refused_and_in_inference_mode_passes_through()
    {
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(13, [Node("Dropout", "d", ["x", string.Empty, "training"], ["y"])], [Bool("training", true)])));
        Assert.AreEqual("Dropout", Read(Model(13, [Node("Dropout", "d", ["x", string.Empty, "training"], ["y"])], [Bool("training", false)])).Graph.Nodes[0].OpType);
    }

    [TestMethod]
    public void BatchNormalization_in_training_mode_is_refused() =>
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(15,
            [Node("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["y"], Int("training_mode", 1))],
            [Floats("s", 3), Floats("b", 3), Floats("m", 3), Floats("v", 3)])));

    [TestMethod]
    [DataRow(7L, true)] // INT64 truncates
    [DataRow(10L, true)] // FLOAT16 rounds
    [DataRow(1L, false)] // FLOAT
    [DataRow(11L, false)] // DOUBLE holds every float32
    public void Cast_is_read_only_where_float32_keeps_the_values(long to, bool refused)
    {
        var model = Model(13, [Node("Cast", "c", ["x"], ["y"], Int("to", to))]);
        if (refused)
        {
            DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(model));
        }
        else
        {
            Assert.AreEqual("Identity", Read(model).Graph.Nodes[0].OpType);
        }
    }

    [TestMethod]
    public void Slice_naming_an_axis_twice_is_refused() =>
        DiagnosticAssert.Throws(DiagnosticCodes.OnnxInvalidAttribute, () => Read(Model(13, [Node("Slice", "s", ["x", "st", "en", "ax"], ["y"])],
            [Int64s("st", 0, 1), Int64s("en", 2, 3), Int64s("ax", 3, -1)])));

    [TestMethod]
    public void Gemm_bias_must_broadcast_to_the_result() =>
        DiagnosticAssert.Throws(DiagnosticCodes.ParameterShapeMismatch, () => Read(Model(13,
            [Node("Flatten", "f", ["x"], ["a"]), Node("Gemm", "g", ["a", "w", "c"], ["y"], Int("transB", 1))],
            [Floats("w", 4, 192), Floats("c", 3)])));

    [TestMethod]
    [DataRow("alpha", "scales its product or its bias")]
    [DataRow("scalar C", "not one value per output")]
    [DataRow("plain", null)]
    public void BatchNorm_after_a_Gemm_folds_only_into_a_plain_product_plus_bias(string gemm, string? refusal)
    {
        // Gemm (1x192 → 3) then BatchNormalization over its 3 outputs: y = alpha*Wx + beta*C makes
        // the per-output fold b' = a*b + shift wrong unless alpha = beta = 1 and C has one value per output.
        var attributes = gemm == "alpha" ? new[] { Int("transB", 1), new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 2 } } : [Int("transB", 1)];
        var model = Read(Model(13,
            [Node("Flatten", "f", ["x"], ["a"]), Node("Gemm", "g", ["a", "w", "c"], ["z"], attributes), Node("BatchNormalization", "bn", ["z", "s", "b", "m", "v"], ["y"])],
            [Floats("w", 3, 192), gemm == "scalar C" ? Values("c", [], 1) : Floats("c", 3), Floats("s", 3), Floats("b", 3), Floats("m", 3), Values("v", [3], 1, 1, 1)]));
        var report = NeuralBuild.Engine.Passes.PassManager.Run(model.Graph);
        if (refusal is null)
        {
            Assert.IsFalse(model.Graph.Nodes.Any(n => n.OpType == "BatchNormalization"));
            return;
        }

        StringAssert.Contains(report.NotApplied.Single(e => e.Node == "bn").Detail, refusal);
        Assert.AreEqual(1, model.Graph.Nodes.Count(n => n.OpType == "BatchNormalization"));
    }

    [TestMethod]
    public void MatMul_broadcasts_batches_and_crosses_k_blocks()
    {
        // (2, 1, 13, 300) x (3, 300, 17) → (2, 3, 13, 17); K = 300 spans two 256-deep blocks of the
        // GEMM. Checked against the plain triple loop in double.
        var random = new Random(11);
        float[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5))];
        var a = Random(2 * 13 * 300);
        var b = Random(3 * 300 * 17);
        var model = Model(13, [Node("MatMul", "m", ["x", "b"], ["y"])], [Values("b", [3, 300, 17], b)], inputDims: [2, 1, 13, 300]);
        var y = Execute(model, [2, 1, 13, 300], a);
        Assert.HasCount(2 * 3 * 13 * 17, y);
        for (var i = 0; i < 2; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                for (var m = 0; m < 13; m++)
                {
                    for (var n = 0; n < 17; n++)
                    {
                        double sum = 0;
                        for (var k = 0; k < 300; k++)
                        {
                            sum += (double)a[(((i * 13) + m) * 300) + k] * b[(((j * 300) + k) * 17) + n];
                        }

                        Assert.AreEqual(sum, y[(((((i * 3) + j) * 13) + m) * 17) + n], 1e-4, $"({i}, {j}, {m}, {n})");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void MatMul_of_vectors_drops_their_axes()
    {
        // [1, 2] x [[1, 2], [3, 4]] = [7, 10]; then x [1, 1] = 17.
        var model = Model(13, [Node("MatMul", "m", ["x", "w"], ["v"]), Node("MatMul", "n", ["v", "o"], ["y"])],
            [Values("w", [2, 2], 1, 2, 3, 4), Values("o", [2], 1, 1)], inputDims: [2]);
        AreClose([17], Execute(model, [2], 1, 2));
    }
}
