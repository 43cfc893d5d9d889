using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ops;
using static NeuralBuild.Engine.Formats.Onnx.Export.OnnxExportGraph;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>Lowerings of data movement: concatenation, views, permutes, slices, padding, resizing, and softmax (which reshapes).</summary>
internal static class OnnxShapeLowering
{
    /// <summary>
    /// Concat → Concat along the axis; darknet's route groups first take channel slice
    /// group_id of groups of every input (Slice on axis 1).
    /// </summary>
    public static void Concat(OnnxLoweringContext c)
    {
        var (axis, groups, groupId) = c.Node.AttributesAs<ConcatAttributes>();
        var inputs = new List<string>();
        for (var i = 0; i < c.Node.Inputs.Count; i++)
        {
            if (groups == 1)
            {
                inputs.Add(c.Input(i));
                continue;
            }

            var part = c.InputShape(i)[1] / groups;
            inputs.Add(c.Slice(c.Input(i), [part * groupId], [part * (groupId + 1)], [1]));
        }

        if (inputs.Count == 1)
        {
            c.Unary("Identity", inputs[0], c.Output());
            return;
        }

        c.Emit("Concat", inputs, [Int("axis", groups == 1 ? axis : 1)], c.Output());
    }

    /// <summary>Flatten and Reshape (Caffe's, views of the same buffer) → Reshape to the inferred output shape.</summary>
    public static void View(OnnxLoweringContext c) => c.Reshape(c.Input(0), c.InputShape(0), c.OutputShape().Dims, c.Output());

    /// <summary>Permute → Transpose with the full permutation (the axes Caffe's order leaves out follow in their order).</summary>
    public static void Permute(OnnxLoweringContext c)
    {
        var order = c.Node.AttributesAs<PermuteAttributes>().Order.ToList();
        for (long axis = 0; axis < c.InputShape(0).Rank; axis++)
        {
            if (!order.Contains(axis))
            {
                order.Add(axis);
            }
        }

        c.Emit("Transpose", [c.Input(0)], [Ints("perm", order)], c.Output());
    }

    /// <summary>Caffe Split (one value handed to several readers) → one Identity per output.</summary>
    public static void Split(OnnxLoweringContext c)
    {
        for (var i = 0; i < c.Node.Outputs.Count; i++)
        {
            c.Unary("Identity", c.Input(0), c.Output(i));
        }
    }

    /// <summary>StridedSlice → Slice with the same starts, ends, axes and steps (ONNX's clamping rules are the IR's).</summary>
    public static void StridedSlice(OnnxLoweringContext c)
    {
        var (starts, ends, axes, steps) = c.Node.AttributesAs<StridedSliceAttributes>();
        c.Slice(c.Input(0), starts, ends, axes, steps, c.Output());
    }

    /// <summary>Pad → Pad (constant, edge or reflect).</summary>
    public static void Pad(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<PadAttributes>();
        c.Pad(c.Input(0), attributes.Pads, (float)attributes.Value, attributes.Mode, c.Output());
    }

    /// <summary>Resize → Resize with the IR's scales or sizes and every coordinate rule as read.</summary>
    public static void Resize(OnnxLoweringContext c)
    {
        var a = c.Node.AttributesAs<ResizeAttributes>();
        var roi = a.Roi is { } r ? c.Floats("roi", [.. r.Select(v => (float)v)], r.Length) : string.Empty;
        var scales = a.Scales is { } s ? c.Floats("scales", [.. s.Select(v => (float)v)], s.Length) : string.Empty;
        List<string> inputs = [c.Input(0), roi, scales];
        if (a.Sizes is { } sizes)
        {
            inputs.Add(c.Int64s("sizes", sizes));
        }

        c.Emit("Resize", inputs,
        [
            String("mode", a.Mode),
            String("coordinate_transformation_mode", a.CoordinateTransformation),
            String("nearest_mode", a.NearestMode),
            Float("cubic_coeff_a", a.CubicCoefficient),
            Int("exclude_outside", a.ExcludeOutside ? 1 : 0),
            Float("extrapolation_value", a.ExtrapolationValue),
        ], c.Output());
    }

    /// <summary>
    /// Softmax on an axis → Softmax(axis); ONNX's coerced 2-D form → Reshape to (rows, rest), Softmax,
    /// Reshape back; darknet's per-item groups → logits divided by the temperature, Reshape to
    /// (N, groups, n), Softmax on the last axis, Reshape back.
    /// </summary>
    /// <summary>Why a hierarchical softmax (darknet's <c>tree=</c>) is refused.</summary>
    internal const string HierarchicalSoftmax = "a hierarchical softmax (tree=: one softmax per group of siblings in the class tree) is not lowered; a plain softmax would compute something other than darknet";

    public static void Softmax(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<SoftmaxAttributes>();
        if (attributes.Hierarchical)
        {
            throw c.Refuse(DiagnosticCodes.ExportOperatorUnsupported, HierarchicalSoftmax);
        }

        var x = c.InputShape(0);
        if (attributes.Axis is { } axisAttribute && !attributes.Coerce2D)
        {
            c.Emit("Softmax", [c.Input(0)], [Int("axis", axisAttribute)], c.Output());
            return;
        }

        Ir.Shape rows;
        var input = c.Input(0);
        if (attributes.Axis is { } axis)
        {
            var at = (int)(axis < 0 ? axis + x.Rank : axis);
            var leading = x.Dims.Take(at).Aggregate(1L, (p, d) => p * d);
            rows = new Ir.Shape(leading, x.ElementCount / leading);
        }
        else
        {
            rows = new Ir.Shape(x[0], attributes.Groups, x.ElementsPerItem / attributes.Groups);
            if (attributes.Temperature != 1)
            {
                input = c.Binary("Div", input, c.Scalar("temperature", (float)attributes.Temperature));
            }
        }

        var reshaped = c.Reshape(input, x, rows.Dims);
        var softmax = c.Emit("Softmax", [reshaped], [Int("axis", -1)]);
        c.Reshape(softmax, rows, x.Dims, c.Output());
    }
}
