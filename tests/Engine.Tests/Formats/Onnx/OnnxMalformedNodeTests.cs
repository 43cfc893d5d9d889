using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Tests.Support;
using static NeuralBuild.Engine.Tests.Formats.Onnx.TinyOnnx;

namespace NeuralBuild.Engine.Tests.Formats.Onnx;

/// <summary>
/// Nodes that break the ONNX operator specification (missing, empty or surplus inputs, attributes
/// of the wrong type, axes the input does not have) are coded errors when the file is read through
/// <see cref="ModelFormats.Read"/>, never an exception from indexing past them.
/// </summary>
[TestClass]
public sealed class OnnxMalformedNodeTests
{
    /// <summary>Writes <paramref name="model"/> to a file and reads it as a user does; the refusal must carry <paramref name="expected"/>.</summary>
    internal static NeuralException Refused(DiagnosticDescriptor expected, ModelProto model)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("bad.onnx", model.ToByteArray());
        return DiagnosticAssert.Throws(expected, () => ModelFormats.Read(path));
    }

    private static ModelProto One(long opset, NodeProto node, params TensorProto[] initializers) => Model(opset, [node], initializers);

    // The inputs each operator requires, from the ONNX operator specification (onnx/docs/Operators.md)
    // at opset 13: one fewer than these, or the last one named "", is malformed.
    [TestMethod]
    [DataRow("Conv", 2)]
    [DataRow("ConvTranspose", 2)]
    [DataRow("BatchNormalization", 5)]
    [DataRow("Gemm", 2)]
    [DataRow("MatMul", 2)]
    [DataRow("Add", 2)]
    [DataRow("Sub", 2)]
    [DataRow("Mul", 2)]
    [DataRow("Div", 2)]
    [DataRow("PRelu", 2)]
    [DataRow("Reshape", 2)]
    [DataRow("Slice", 3)]
    [DataRow("Pad", 2)]
    [DataRow("Unsqueeze", 2)]
    [DataRow("Gather", 2)]
    [DataRow("Relu", 1)]
    [DataRow("MaxPool", 1)]
    [DataRow("GlobalAveragePool", 1)]
    [DataRow("Flatten", 1)]
    [DataRow("Transpose", 1)]
    [DataRow("Concat", 1)]
    [DataRow("Split", 1)]
    [DataRow("Resize", 1)]
    [DataRow("Softmax", 1)]
    [DataRow("Squeeze", 1)]
    [DataRow("Identity", 1)]
    [DataRow("Dropout", 1)]
    [DataRow("Cast", 1)]
    [DataRow("ReduceMean", 1)]
    [DataRow("Clip", 1)]
    [DataRow("Shape", 1)]
    [DataRow("ConstantOfShape", 1)]
    public void A_node_with_a_required_input_missing_or_empty_is_NM0213(string op, int required)
    {
        // Inputs that exist (x and constants c1…), one short of the requirement.
        var present = new[] { "x", "c1", "c2", "c3", "c4" }.Take(required - 1).ToArray();
        var constants = present.Skip(1).Select(name => Floats(name, 3)).ToArray();

        var missing = Refused(DiagnosticCodes.OnnxMissingInput, One(13, Node(op, "n", present, ["y"]), constants));
        var empty = Refused(DiagnosticCodes.OnnxMissingInput, One(13, Node(op, "n", [.. present, string.Empty], ["y"]), constants));

        StringAssert.Contains(missing.Message, $"lacks input {required - 1}");
        StringAssert.Contains(empty.Message, "its name is empty");
    }

    [TestMethod]
    [DataRow("Reshape")]
    [DataRow("Concat")]
    [DataRow("Relu")]
    public void A_first_input_named_empty_is_NM0213(string op)
    {
        // ONNX reserves "" for omitted optional inputs; a data input is never optional.
        string[] inputs = op == "Relu" ? [string.Empty] : [string.Empty, "shape"];
        var error = Refused(DiagnosticCodes.OnnxMissingInput, One(13, Node(op, "n", inputs, ["y"]), Int64s("shape", 1, 192)));

        StringAssert.Contains(error.Message, "lacks input 0 (its name is empty)");
    }

    [TestMethod]
    public void Arithmetic_on_a_single_constant_is_NM0213_before_it_is_folded()
    {
        // Add(c) with c an initializer: every input is constant, so the node is a fold candidate.
        Refused(DiagnosticCodes.OnnxMissingInput, One(13, Node("Add", "add", ["c"], ["y"]), Floats("c", 3)));
    }

    [TestMethod]
    public void A_node_without_an_output_name_is_NM0213()
    {
        Refused(DiagnosticCodes.OnnxMissingInput, One(13, Node("Relu", "r", ["x"], [string.Empty])));
        Refused(DiagnosticCodes.OnnxMissingInput, One(13, Node("Relu", "r", ["x"], [])));
    }

    [TestMethod]
    [DataRow(13L, "Add", 3)] // Add takes A and B
    [DataRow(13L, "Relu", 2)]
    [DataRow(11L, "Squeeze", 2)] // axes is an attribute before opset 13
    [DataRow(13L, "BatchNormalization", 6)]
    public void A_node_with_more_inputs_than_its_operator_takes_is_NM0214(long opset, string op, int inputs)
    {
        var names = new[] { "x", "c1", "c2", "c3", "c4", "c5" }.Take(inputs).ToArray();

        Refused(DiagnosticCodes.OnnxExtraInput, One(opset, Node(op, "n", names, ["y"]), [.. names.Skip(1).Select(n => Floats(n, 3))]));
    }

    [TestMethod]
    public void An_int_attribute_given_as_float_string_or_tensor_is_NM0209()
    {
        AttributeProto[] wrong =
        [
            new() { Name = "group", Type = AttributeProto.Types.AttributeType.Float, F = 1.5f },
            new() { Name = "group", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("1") },
            new() { Name = "group", Type = AttributeProto.Types.AttributeType.Tensor, T = Int64s("g", 1) },
        ];
        foreach (var attribute in wrong)
        {
            var error = Refused(DiagnosticCodes.OnnxInvalidAttribute, Conv(13, attribute));
            StringAssert.Contains(error.Message, "attribute 'group'");
        }
    }

    [TestMethod]
    public void An_ints_attribute_given_as_a_single_int_is_NM0209()
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, Conv(13, Int("strides", 2)));
    }

    [TestMethod]
    public void An_attribute_given_twice_is_NM0209()
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, Conv(13, Ints("strides", 1, 1), Ints("strides", 2, 2)));
    }

    [TestMethod]
    public void A_constant_whose_value_attribute_has_another_type_is_NM0209()
    {
        var constant = Node("Constant", "c", [], ["shape"], new AttributeProto { Name = "value_ints", Type = AttributeProto.Types.AttributeType.Float, F = 2 });

        Refused(DiagnosticCodes.OnnxInvalidAttribute, Model(13, [constant, Node("Reshape", "r", ["x", "shape"], ["y"])]));
    }

    [TestMethod]
    [DataRow(999L)]
    [DataRow(8L)] // STRING: not numeric
    [DataRow(-1L)]
    public void A_cast_to_an_unknown_or_non_numeric_type_is_NM0209(long to)
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, One(13, Node("Cast", "cast", ["x"], ["y"], Int("to", to))));
        Refused(DiagnosticCodes.OnnxInvalidAttribute, One(13, Node("Cast", "cast", ["c"], ["y"], Int("to", to)), Floats("c", 3)));
    }

    [TestMethod]
    [DataRow("Squeeze", 9L)]
    [DataRow("Squeeze", -5L)]
    [DataRow("Unsqueeze", 5L)] // the output has rank 5: axes in [-5, 4]
    [DataRow("Unsqueeze", long.MaxValue)]
    [DataRow("Unsqueeze", long.MinValue)]
    public void Squeeze_and_unsqueeze_axes_outside_the_rank_are_NM0209(string op, long axis)
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, One(13, Node(op, "n", ["x", "axes"], ["y"]), Int64s("axes", axis)));
    }

    [TestMethod]
    public void Repeated_unsqueeze_axes_are_NM0209()
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, One(13, Node("Unsqueeze", "n", ["x", "axes"], ["y"]), Int64s("axes", 0, -6))); // the output has rank 6: -6 is axis 0
    }

    [TestMethod]
    [DataRow(7L)]
    [DataRow(-5L)]
    [DataRow(long.MaxValue)]
    public void A_split_axis_outside_the_rank_is_NM0209(long axis)
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, Model(13, [Node("Split", "s", ["x"], ["y", "z"], Int("axis", axis))], outputs: ["y", "z"]));
    }

    [TestMethod]
    [DataRow(-1L, 4L)] // sums to the 3 channels, but a piece cannot be negative
    [DataRow(long.MaxValue, long.MaxValue)] // the sum overflows
    public void Split_sizes_that_are_negative_or_overflow_are_NM0209(long first, long second)
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, Model(13, [Node("Split", "s", ["x", "sizes"], ["y", "z"], Int("axis", 1))], [Int64s("sizes", first, second)], outputs: ["y", "z"]));
    }

    [TestMethod]
    public void Constant_of_shape_with_a_negative_dimension_is_NM0209()
    {
        var model = Model(13,
            [Node("ConstantOfShape", "fill", ["dims"], ["shape"]), Node("Reshape", "r", ["x", "shape"], ["y"])],
            [Int64s("dims", -2)]);

        Refused(DiagnosticCodes.OnnxInvalidAttribute, model);
    }

    [TestMethod]
    public void A_folded_reshape_to_negative_dimensions_is_refused_like_a_computed_one()
    {
        // [-2, -96] holds 192 elements by product, but -2 is neither a size, 0 (copy) nor -1 (infer).
        var folded = One(13, Node("Reshape", "r", ["c", "shape"], ["y"]), Floats("c", 1, 3, 8, 8), Int64s("shape", -2, -96));
        var computed = One(13, Node("Reshape", "r", ["x", "shape"], ["y"]), Int64s("shape", -2, -96));

        Refused(DiagnosticCodes.AttributeOutOfRange, folded);
        Refused(DiagnosticCodes.AttributeOutOfRange, computed);
    }

    [TestMethod]
    [DataRow(TensorProto.Types.DataType.Int32)]
    [DataRow(TensorProto.Types.DataType.Int64)]
    [DataRow(TensorProto.Types.DataType.Bool)]
    public void Weights_stored_as_integers_are_NM0215(TensorProto.Types.DataType type)
    {
        // The data type of a float initializer changed (the bytes stay): Conv takes float tensors only.
        var model = Conv();
        model.Graph.Initializer[0].DataType = (int)type;
        model.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[108 * (type == TensorProto.Types.DataType.Int64 ? 8 : type == TensorProto.Types.DataType.Bool ? 1 : 4)]);

        Refused(DiagnosticCodes.OnnxTypeMismatch, model);
    }

    [TestMethod]
    public void An_integer_operand_of_arithmetic_on_a_float_value_is_NM0215()
    {
        Refused(DiagnosticCodes.OnnxTypeMismatch, One(13, Node("Add", "add", ["x", "k"], ["y"]), Int64s("k", 1, 2, 3, 4, 5, 6, 7, 8)));
    }

    [TestMethod]
    [DataRow(2L)]
    [DataRow(-1L)]
    [DataRow(long.MaxValue)]
    public void A_flag_attribute_other_than_0_or_1_is_NM0209(long value)
    {
        Refused(DiagnosticCodes.OnnxInvalidAttribute, One(13, Node("MaxPool", "pool", ["x"], ["y"], Ints("kernel_shape", 2, 2), Int("ceil_mode", value))));
        Refused(DiagnosticCodes.OnnxInvalidAttribute, Model(13,
            [Node("Flatten", "f", ["x"], ["a"]), Node("Gemm", "fc", ["a", "w"], ["y"], Int("transB", value))],
            [Floats("w", 10, 192)]));
    }
}
