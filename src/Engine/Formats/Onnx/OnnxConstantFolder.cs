using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Formats.Onnx.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using AttributeType = NeuralBuild.Engine.Formats.Onnx.Proto.AttributeProto.Types.AttributeType;
using DT = NeuralBuild.Engine.Formats.Onnx.Proto.TensorProto.Types.DataType;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Read-time folding of nodes on constants: Constant, and the Shape → Gather → Cast → Unsqueeze →
/// Concat chains (with their int64 arithmetic) exporters emit to compute shapes. Values are doubles,
/// which hold that arithmetic exactly; a folded node produces a constant and no IR node.
/// </summary>
internal static class OnnxConstantFolder
{
    /// <summary>Folds <paramref name="n"/> when its inputs allow <paramref name="fold"/>; false leaves it to be mapped.</summary>
    public static bool TryFold(OnnxNode n, OnnxFold fold, Dictionary<string, OnnxConstant> constants)
    {
        var present = n.Proto.Input.Where(i => i.Length > 0).ToList();
        var allConstant = present.All(constants.ContainsKey);
        var applies = fold.When switch
        {
            OnnxFoldWhen.Always => true,
            OnnxFoldWhen.Constants => allConstant,
            _ => allConstant && present.Count > 0 && present.All(i => constants[i].IsSmall),
        };
        if (!applies || fold.Compute(n) is not { } value)
        {
            return false;
        }

        constants[n.Proto.Output[0]] = value;
        return true;
    }

    public static OnnxConstant ConstantNode(OnnxNode n)
    {
        if (n.Proto.Attribute.Count != 1)
        {
            throw n.Invalid($"it has {n.Proto.Attribute.Count} attributes; a Constant holds exactly one value attribute");
        }

        var attribute = n.Proto.Attribute[0];
        _ = n.Attr.Get(attribute.Name, attribute.Name switch
        {
            "value" => AttributeType.Tensor,
            "value_float" => AttributeType.Float,
            "value_floats" => AttributeType.Floats,
            "value_int" => AttributeType.Int,
            "value_ints" => AttributeType.Ints,
            _ => attribute.Type,
        });
        switch (attribute.Name)
        {
            case "value":
                {
                    var tensor = OnnxTensor.Open(attribute.T ?? new TensorProto(), $"{n.Name}.value", n.Path);
                    return new OnnxConstant(tensor.Shape, tensor.Type) { Tensor = tensor };
                }

            case "value_float":
                return new OnnxConstant(new Shape(), DT.Float) { Values = [attribute.F] };
            case "value_floats":
                return new OnnxConstant(new Shape(attribute.Floats.Count), DT.Float) { Values = [.. attribute.Floats.Select(f => (double)f)] };
            case "value_int":
                return new OnnxConstant(new Shape(), DT.Int64) { Values = [attribute.I] };
            case "value_ints":
                return new OnnxConstant(new Shape(attribute.Ints.Count), DT.Int64) { Values = [.. attribute.Ints.Select(i => (double)i)] };
            default:
                throw DiagnosticCodes.OnnxInvalidAttribute.Exception(n.Location, $"{OnnxNode.Describe(n.Proto)}: attribute '{attribute.Name}' is not a value NeuralBuild reads (value, value_float(s), value_int(s)).");
        }
    }

    /// <summary>Shape needs only its input's shape, which is known whether the input is computed or constant.</summary>
    public static OnnxConstant Shape(OnnxNode n)
    {
        var shape = n.ShapeOf(n.X);
        var dims = shape.Dims.Select(d => (double)d).ToArray();
        var start = (int)OnnxNode.Norm(n.Attr.Int("start", 0), shape.Rank, clamp: true);
        var end = (int)OnnxNode.Norm(n.Attr.Int("end", shape.Rank), shape.Rank, clamp: true);
        var values = dims[start..Math.Max(start, end)];
        return new OnnxConstant(new Shape(values.Length), DT.Int64) { Values = values };
    }

    /// <remarks>
    /// Small constants fold whatever the types; a large one only from FLOAT16 to FLOAT (the float16
    /// weights of a quantized export, which a conv needs as a constant); any other large Cast is mapped.
    /// </remarks>
    public static OnnxConstant? Cast(OnnxNode n)
    {
        var c = n.Const(0);
        var to = OnnxLayerMapping.CastTarget(n);
        if (!c.IsSmall && !(c.Type == DT.Float16 && to == DT.Float))
        {
            return null;
        }

        var values = c.Elements().ToArray();
        var result = new OnnxConstant(c.Shape, to) { Values = values };
        if (result.IsInteger)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = Math.Truncate(values[i]);
            }
        }

        return result;
    }

    /// <summary>
    /// DequantizeLinear of a constant (quantized weights, as the ONNX export writes them): (x - zero point)
    /// * scale, per tensor or per channel along <c>axis</c> (default 1), as float.
    /// </summary>
    public static OnnxConstant DequantizeLinear(OnnxNode n)
    {
        var x = n.Const(0);
        var scale = n.Const(1).Elements();
        var zeroPoint = n.Has(2) ? n.Const(2).Elements() : [0.0];
        var axis = (int)OnnxNode.Norm(n.Attr.Int("axis", 1), x.Shape.Rank, clamp: false);
        var perAxis = n.Const(1).Shape.Rank == 1 && x.Shape.Rank > 0;
        var channels = perAxis ? x.Shape[axis] : 1;
        if (perAxis && (scale.Length != channels || (zeroPoint.Length != 1 && zeroPoint.Length != channels)))
        {
            throw n.Unsupported($"its scale has {scale.Length} values for axis {axis} of {x.Shape}");
        }

        var inner = perAxis ? x.Shape.Dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b) : 1;
        var values = x.Elements().ToArray();
        for (long i = 0; i < values.Length; i++)
        {
            var channel = perAxis ? (int)(i / inner % channels) : 0;
            // float32 arithmetic, as the operator computes it.
            values[i] = (float)((float)(values[i] - zeroPoint[zeroPoint.Length == 1 ? 0 : channel]) * (float)scale[channel]);
        }

        return new OnnxConstant(x.Shape, DT.Float) { Values = values };
    }

    public static OnnxConstant Gather(OnnxNode n)
    {
        var data = n.Const(0);
        var indices = n.Const(1);
        var axis = (int)OnnxNode.Norm(n.Attr.Int("axis", 0), data.Shape.Rank, clamp: false);
        if (data.Shape.Rank != 1 || axis != 0)
        {
            throw n.Unsupported($"Gather on constants is folded for 1-D data only; this one has data {data.Shape}");
        }

        var all = data.Elements();
        var picked = indices.Elements().Select(i =>
        {
            var k = (long)i < 0 ? (long)i + all.Length : (long)i;
            return k >= 0 && k < all.Length ? all[k] : throw DiagnosticCodes.OnnxInvalidAttribute.Exception(n.Location, $"{OnnxNode.Describe(n.Proto)}: index {i} is outside [0, {all.Length}).");
        }).ToArray();
        return new OnnxConstant(indices.Shape, data.Type) { Values = picked };
    }

    /// <summary>Unsqueeze, Squeeze, Reshape and Flatten: the same values under the new shape.</summary>
    public static OnnxConstant Reshaped(OnnxNode n)
    {
        var c = n.Const(0);
        return new OnnxConstant(OnnxShapeMapping.ReshapedShape(n, c.Shape), c.Type) { Values = c.Elements() };
    }

    /// <summary>Concat of 1-D constants (shape vectors); null (not folded) for any other rank.</summary>
    public static OnnxConstant? Concat(OnnxNode n)
    {
        var parts = Enumerable.Range(0, n.Proto.Input.Count).Where(n.Has).Select(i => n.Const(i)).ToList();
        if (parts.Any(p => p.Shape.Rank != 1))
        {
            return null;
        }

        var values = parts.SelectMany(p => p.Elements()).ToArray();
        return new OnnxConstant(new Shape(values.Length), parts[0].Type) { Values = values };
    }

    /// <summary>Add, Sub, Mul or Div broadcast; null (not folded) when the result would be too large.</summary>
    public static OnnxConstant? Arithmetic(OnnxNode n)
    {
        var a = n.Const(0);
        var b = n.Const(1);
        var shape = Ops.Arithmetic.Broadcast(n.Context([a.Shape, b.Shape]), a.Shape, b.Shape);
        if (shape.ElementCount > OnnxConstant.FoldLimit)
        {
            return null;
        }

        var va = a.Elements();
        var vb = b.Elements();
        var result = new double[shape.ElementCount];
        var integer = a.IsInteger;
        double Compute(double x, double y) => n.OpType switch
        {
            "Add" => x + y,
            "Sub" => x - y,
            "Mul" => x * y,
            _ when integer => y == 0
                ? throw DiagnosticCodes.OnnxInvalidAttribute.Exception(n.Location, $"{OnnxNode.Describe(n.Proto)} divides by zero.")
                : Math.Truncate(x / y),
            _ => x / y,
        };

        if (result.Length > 0)
        {
            int[][] strides = [Broadcasting.Strides(a.Shape, shape), Broadcasting.Strides(b.Shape, shape)];
            var (strideA, strideB) = shape.Rank == 0 ? (0, 0) : (strides[0][^1], strides[1][^1]);
            var row = shape.Rank == 0 ? 1 : (int)shape[-1];
            Broadcasting.ForEachRow(shape, strides, (at, offsets) =>
            {
                for (var k = 0; k < row; k++)
                {
                    result[at + k] = Compute(va[offsets[0] + (k * strideA)], vb[offsets[1] + (k * strideB)]);
                }
            });
        }

        return new OnnxConstant(shape, a.Type) { Values = result };
    }

    /// <summary>Slice of a 1-D constant along its one axis; null (not folded) for anything else.</summary>
    public static OnnxConstant? Slice(OnnxNode n)
    {
        var c = n.Const(0);
        if (c.Shape.Rank != 1)
        {
            return null;
        }

        var (starts, ends, axes, steps) = OnnxOpsetNormalisation.SliceSpec(n);
        if (axes.Length != 1 || starts.Length != 1 || ends.Length != 1 || steps.Length != 1 || steps[0] == 0 || OnnxNode.Norm(axes[0], 1, clamp: false) != 0)
        {
            return null;
        }

        var all = c.Elements();
        var values = new List<double>();
        var count = all.Length;
        var length = StridedSlice.Length(count, starts[0], ends[0], steps[0]);
        var s = starts[0] < 0 ? starts[0] + count : starts[0];
        s = steps[0] > 0 ? Math.Clamp(s, 0, count) : Math.Clamp(s, -1, count - 1);
        for (long k = 0; k < length; k++)
        {
            values.Add(all[s + (k * steps[0])]);
        }

        return new OnnxConstant(new Shape(values.Count), c.Type) { Values = [.. values] };
    }

    public static OnnxConstant? ConstantOfShape(OnnxNode n)
    {
        var dims = n.Const(0).Elements().Select(v => (long)v).ToArray();
        if (dims.Any(d => d < 0))
        {
            throw n.Invalid($"shape [{string.Join(", ", dims)}] has a negative dimension");
        }

        var shape = new Shape(dims);
        var fill = n.Attr.Tensor("value") is { } t ? OnnxTensor.Open(t, n.Name, n.Path) : null;
        if (fill is not null && fill.ElementCount != 1)
        {
            throw n.Invalid($"value holds {fill.ElementCount} elements; ConstantOfShape fills with one");
        }

        var value = fill is null ? 0.0 : fill.ToDoubles()[0];
        if (shape.ElementCount > OnnxConstant.FoldLimit)
        {
            return null;
        }

        return new OnnxConstant(shape, fill?.Type ?? DT.Float) { Values = [.. Enumerable.Repeat(value, (int)shape.ElementCount)] };
    }
}
