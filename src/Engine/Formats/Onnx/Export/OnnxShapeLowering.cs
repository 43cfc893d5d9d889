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
    public static void Softmax(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<SoftmaxAttributes>();
        var x = c.InputShape(0);
        if (attributes.Hierarchical)
        {
            var logits = attributes.Temperature == 1 ? c.Input(0) : c.Binary("Div", c.Input(0), c.Scalar("temperature", (float)attributes.Temperature));
            var items = new Ir.Shape(x[0], x.ElementsPerItem);
            var flat = c.Reshape(logits, x, items.Dims);
            c.Reshape(GroupedSoftmax(c, flat, items, 1, ClassGroups(c, attributes.GroupSizes, attributes.MissingClassTree)), items, x.Dims, c.Output());
            return;
        }

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

    /// <summary>A hierarchical layer's group sizes; a layer whose class tree was not found is refused with the reader's reason (NM0027).</summary>
    internal static long[] ClassGroups(OnnxLoweringContext c, long[] groups, string? missingTree) =>
        missingTree is null ? groups : throw c.Refuse(DiagnosticCodes.ReferencedFileMissing, missingTree);

    /// <summary>
    /// Darknet's hierarchical softmax (softmax_tree) along <paramref name="axis"/> of
    /// <paramref name="x"/> (shape <paramref name="shape"/>): one softmax per group of consecutive
    /// positions, the groups of <paramref name="groupSizes"/> in order. Written per distinct group size
    /// rather than per group (YOLO9000's tree has 1,846 groups but 41 sizes): the positions of all
    /// groups of one size are gathered into a (groups, size) block, which gets one Softmax on its last
    /// axis; the blocks are concatenated, and one last Gather puts every position back in place.
    /// Exact: each softmax sees exactly its group, as darknet's does; nothing is padded.
    /// </summary>
    internal static string GroupedSoftmax(OnnxLoweringContext c, string x, Ir.Shape shape, int axis, long[] groupSizes)
    {
        var starts = new long[groupSizes.Length];
        for (var g = 1; g < groupSizes.Length; g++)
        {
            starts[g] = starts[g - 1] + groupSizes[g - 1];
        }

        var placed = new List<long>();
        var blocks = new List<string>();
        foreach (var size in groupSizes.Where(s => s > 0).Distinct())
        {
            var positions = Enumerable.Range(0, groupSizes.Length).Where(g => groupSizes[g] == size)
                .SelectMany(g => Enumerable.Range(0, (int)size).Select(i => starts[g] + i)).ToArray();
            var gathered = c.Emit("Gather", [x, c.Int64s($"groups_of_{size}", positions)], [Int("axis", axis)]);
            var gatheredShape = shape.WithDim(axis, positions.Length);
            long[] blockDims = [.. gatheredShape.Dims.Take(axis), positions.Length / size, size, .. gatheredShape.Dims.Skip(axis + 1)];
            var softmax = c.Emit("Softmax", [c.Reshape(gathered, gatheredShape, blockDims)], [Int("axis", axis + 1)]);
            blocks.Add(c.Reshape(softmax, new Ir.Shape(blockDims), gatheredShape.Dims));
            placed.AddRange(positions);
        }

        var joined = blocks.Count == 1 ? blocks[0] : c.Emit("Concat", blocks, [Int("axis", axis)]);
        var back = new long[placed.Count];
        for (var k = 0; k < placed.Count; k++)
        {
            back[placed[k]] = k;
        }

        return c.Emit("Gather", [joined, c.Int64s("back_in_place", back)], [Int("axis", axis)]);
    }
}
