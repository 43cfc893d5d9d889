using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Ops;
using static NeuralBuild.Engine.Formats.Onnx.Export.OnnxExportGraph;

namespace NeuralBuild.Engine.Formats.Onnx.Export;

/// <summary>
/// Lowerings of the operators only Darknet has: shortcut of mismatched shapes or with weights,
/// upsample with a scale or reversed, reorg in darknet's own index order, crop, and the detection
/// heads' in-place activations (so each head's ONNX output is darknet's layer output).
/// </summary>
internal static class OnnxDarknetLowering
{
    /// <summary>
    /// Shortcut → x + Σ from_i as an Add chain in the kernel's order. A from-layer of another shape is
    /// first brought to x's shape with zeros where the kernel adds nothing: pjreddie's strided rule
    /// (Slice with the stride, spread by the sample factor, Pad) or AlexeyAB's flat rule (Flatten,
    /// Slice or Pad to x's size, Reshape). AlexeyAB's weights, normalised now as the kernel normalises
    /// them (relu, softmax), multiply each term (a scalar per layer, or one value per channel).
    /// </summary>
    public static void Shortcut(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<ShortcutAttributes>();
        var x = c.InputShape(0);
        var fromCount = (int)attributes.FromCount;
        var weights = attributes.IsWeighted(c.Node.Inputs.Count) ? ShortcutWeights(c, attributes, x, fromCount + 1) : null;
        var flat = weights is not null || (attributes.FlatSizeMismatch && Enumerable.Range(1, fromCount).Any(i => !c.InputShape(i).Equals(x)));
        var value = weights is null ? c.Input(0) : c.Binary("Mul", c.Input(0), weights[0]);
        for (var i = 1; i <= fromCount; i++)
        {
            var from = c.InputShape(i);
            var term = from.Equals(x) ? c.Input(i) : flat ? FlatAligned(c, i, x) : StridedAligned(c, i, x);
            if (weights is not null)
            {
                term = c.Binary("Mul", term, weights[i]);
            }

            value = c.Binary("Add", value, term, i == fromCount ? c.Output() : null);
        }

        if (fromCount == 0)
        {
            c.Unary("Identity", value, c.Output());
        }
    }

    /// <summary>The normalised weight of each input (x first) as a constant: a scalar, or (C, 1, 1) per channel.</summary>
    private static string[] ShortcutWeights(OnnxLoweringContext c, ShortcutAttributes attributes, Shape x, int inputs)
    {
        var raw = c.WeightValues(inputs);
        var layerStep = raw.Length / inputs;
        if (layerStep != 1 && !(x.Rank == 4 && layerStep == x.C))
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible, $"{raw.Length} shortcut weights for {inputs} inputs of {x}: neither one per layer nor one per layer and channel.");
        }

        var normalised = new float[raw.Length];
        for (var j = 0; j < layerStep; j++)
        {
            float sum = 1, maxVal = float.MinValue;
            if (attributes.WeightsNormalization != "none")
            {
                if (attributes.WeightsNormalization == "softmax")
                {
                    for (var i = 0; i < inputs; i++)
                    {
                        maxVal = Math.Max(maxVal, raw[j + (i * layerStep)]);
                    }
                }

                sum = 0.0001f;
                for (var i = 0; i < inputs; i++)
                {
                    var w = raw[j + (i * layerStep)];
                    sum += attributes.WeightsNormalization == "relu" ? Math.Max(w, 0f) : MathF.Exp(w - maxVal);
                }
            }

            for (var i = 0; i < inputs; i++)
            {
                var w = raw[j + (i * layerStep)];
                normalised[j + (i * layerStep)] = attributes.WeightsNormalization switch
                {
                    "relu" => Math.Max(w, 0f) / sum,
                    "softmax" => MathF.Exp(w - maxVal) / sum,
                    _ => w,
                };
            }
        }

        long[] dims = layerStep == 1 ? [1] : [x.C, 1, 1];
        return [.. Enumerable.Range(0, inputs).Select(i => c.Floats("weight", normalised[(i * layerStep)..((i + 1) * layerStep)], dims))];
    }

    /// <summary>AlexeyAB's flat rule: element i of the from-layer's item meets element i of x's, while it has one.</summary>
    private static string FlatAligned(OnnxLoweringContext c, int input, Shape x)
    {
        var from = c.InputShape(input);
        var size = from.ElementsPerItem;
        var outputs = x.ElementsPerItem;
        var flat = c.Emit("Flatten", [c.Input(input)], [Int("axis", 1)]);
        var fitted = size > outputs ? c.Slice(flat, [0], [outputs], [1])
            : size < outputs ? c.Pad(flat, [0, 0, 0, outputs - size], 0f)
            : flat;
        return c.Reshape(fitted, new Shape(from[0], outputs), x.Dims);
    }

    /// <summary>
    /// pjreddie's strided rule: over the common channels and the smaller grid, output pixel
    /// (i*sample, j*sample) gains from-pixel (i*stride, j*stride), stride = w_from / w_out and
    /// sample = w_out / w_from (each at least 1, both taken from the widths as darknet does).
    /// </summary>
    private static string StridedAligned(OnnxLoweringContext c, int input, Shape x)
    {
        var from = c.InputShape(input);
        var stride = Math.Max(1, from.W / x.W);
        var sample = Math.Max(1, x.W / from.W);
        long minC = Math.Min(from.C, x.C), minH = Math.Min(from.H, x.H), minW = Math.Min(from.W, x.W);
        if ((minH - 1) * stride >= from.H || (minW - 1) * stride >= from.W || minH * sample > x.H || minW * sample > x.W)
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible,
                $"a shortcut from {from} to {x}: darknet's strided rule reads or writes outside the tensors for these sizes, which no slice expresses.");
        }

        var taken = c.Slice(c.Input(input), [0, 0, 0], [minC, ((minH - 1) * stride) + 1, ((minW - 1) * stride) + 1], [1, 2, 3], [1, stride, stride]);
        if (sample > 1)
        {
            var spread = c.Reshape(taken, new Shape(from.N, minC, minH, minW), [from.N, minC, minH, 1, minW, 1]);
            var padded = c.Pad(spread, [0, 0, 0, 0, 0, 0, 0, 0, 0, sample - 1, 0, sample - 1], 0f);
            taken = c.Reshape(padded, new Shape(from.N, minC, minH, sample, minW, sample), [from.N, minC, minH * sample, minW * sample]);
        }

        return c.Pad(taken, [0, 0, 0, 0, 0, x.C - minC, x.H - (minH * sample), x.W - (minW * sample)], 0f);
    }

    /// <summary>
    /// Upsample → Resize (nearest, asymmetric, floor: pixel (oy, ox) is input (oy/s, ox/s)) then Mul
    /// by the scale; darknet's reverse (negative stride) sums every s x s block of scale * x: Mul, then
    /// a depthwise Conv of ones with stride s.
    /// </summary>
    public static void Upsample(OnnxLoweringContext c)
    {
        var (stride, scale) = c.Node.AttributesAs<UpsampleAttributes>();
        var x = c.InputShape(0);
        var scaled = scale != 1;
        if (stride > 0)
        {
            var resized = c.Emit("Resize", [c.Input(0), string.Empty, c.Floats("scales", [1, 1, stride, stride], 4)],
                [String("mode", "nearest"), String("coordinate_transformation_mode", "asymmetric"), String("nearest_mode", "floor")],
                scaled ? null : c.Output());
            if (scaled)
            {
                c.Binary("Mul", resized, c.Scalar("scale", (float)scale), c.Output());
            }

            return;
        }

        var s = -stride;
        var input = scaled ? c.Binary("Mul", c.Input(0), c.Scalar("scale", (float)scale)) : c.Input(0);
        var ones = c.Floats("ones", [.. Enumerable.Repeat(1f, (int)(x.C * s * s))], x.C, 1, s, s);
        c.Emit("Conv", [input, ones], [Ints("kernel_shape", [s, s]), Ints("strides", [s, s]), Int("group", x.C)], c.Output());
    }

    /// <summary>
    /// Reorg → Reshape, Transpose, Reshape following darknet's reorg_cpu over its grid (c, h, w) (the
    /// input's for [reorg], the output's for [reorg3d]): flat index i + w*(j + h*k) of the grid pairs
    /// with (c2, j*s + oy, i*s + ox) of a (c/s², h*s, w*s) view, k = (oy*s + ox)*(c/s²) + c2. Seen as
    /// 6-D arrays that is a transpose: (oy, ox, c2, j, i) ↔ (c2, j, oy, i, ox). [reorg] copies the view
    /// into the grid (so it is not SpaceToDepth), reverse=1 the other way. extra=N: Flatten, Pad N zeros.
    /// </summary>
    public static void Reorg(OnnxLoweringContext c)
    {
        var attributes = c.Node.AttributesAs<ReorgAttributes>();
        var x = c.InputShape(0);
        var y = c.OutputShape();
        if (attributes.Extra > 0)
        {
            var flat = c.Emit("Flatten", [c.Input(0)], [Int("axis", 1)]);
            var padded = c.Pad(flat, [0, 0, 0, attributes.Extra], 0f);
            c.Reshape(padded, new Shape(x.N, y.C), y.Dims, c.Output());
            return;
        }

        var s = attributes.Stride;
        var grid = attributes.Reorg3d ? y : x;
        long channels = grid.C, h = grid.H, w = grid.W, outC = channels / (s * s);
        if (outC == 0)
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible, $"{channels} channels cannot be split into {s}x{s} blocks (darknet divides by zero here).");
        }

        // reverse=1 runs darknet's forward copy (grid → view); [reorg] / [reorg3d] without it the backward one (view → grid).
        long[] from, perm;
        if (attributes.Reverse)
        {
            from = [x.N, s, s, outC, h, w];
            perm = [0, 3, 4, 1, 5, 2];
        }
        else
        {
            from = [x.N, outC, h, s, w, s];
            perm = [0, 3, 5, 1, 2, 4];
        }

        var sixD = c.Reshape(c.Input(0), x, from);
        var moved = c.Emit("Transpose", [sixD], [Ints("perm", perm)]);
        c.Reshape(moved, new Shape([.. perm.Select(p => from[p])]), y.Dims, c.Output());
    }

    /// <summary>[yolo] → Sigmoid where darknet applies the logistic (x, y, objectness, classes; nothing with new_coords), then x*s - (s-1)/2 on x and y.</summary>
    public static void Yolo(OnnxLoweringContext c)
    {
        var a = c.Node.AttributesAs<DarknetYoloAttributes>();
        var entries = a.Classes + 5;
        Head(c, a.Anchors, entries, e => !a.NewCoords && e is not (2 or 3), e => e is 0 or 1, a.ScaleXY);
    }

    /// <summary>[Gaussian_yolo] → Sigmoid on all entries but w and h (4, 6), then x*s - (s-1)/2 on x and y (entries 0, 2).</summary>
    public static void GaussianYolo(OnnxLoweringContext c)
    {
        var a = c.Node.AttributesAs<DarknetYoloAttributes>();
        Head(c, a.Anchors, a.Classes + 9, e => e is not (4 or 6), e => e is 0 or 2, a.ScaleXY);
    }

    /// <summary>
    /// The per-channel activations of a head: Sigmoid on the masked planes, then Mul and Add of per-entry
    /// constants where scale_x_y moves x and y. The mask is one value per channel plane (per value of a flat input).
    /// </summary>
    private static void Head(OnnxLoweringContext c, long anchors, long entries, Func<long, bool> logistic, Func<long, bool> scaled, double scaleXY)
    {
        var x = c.InputShape(0);
        var (planes, dims) = Planes(x);
        var mask = new bool[planes];
        var alpha = new float[planes];
        var beta = new float[planes];
        for (var p = 0; p < planes; p++)
        {
            var entry = p % entries;
            mask[p] = p < anchors * entries && logistic(entry);
            var moved = scaleXY != 1 && p < anchors * entries && scaled(entry);
            alpha[p] = moved ? (float)scaleXY : 1f;
            beta[p] = moved ? (float)(-0.5 * (scaleXY - 1)) : 0f;
        }

        var hasScale = alpha.Any(v => v != 1f);
        var activated = LogisticWhere(c, c.Input(0), mask, dims, hasScale ? null : c.Output());
        if (hasScale)
        {
            c.Binary("Add", c.Binary("Mul", activated, c.Floats("scale_x_y", alpha, dims)), c.Floats("shift_x_y", beta, dims), c.Output());
        }
    }

    /// <summary>
    /// The logistic of <paramref name="x"/> where <paramref name="mask"/> (of <paramref name="dims"/>,
    /// broadcast over x) is true, x elsewhere: Sigmoid(x) · m + x · (1 − m) with m 0 or 1. Exact for
    /// finite x (a product by 1 or 0 is exact, a sum with 0 too), and made of operators every ONNX
    /// runtime and reader has (unlike Where, so an export reads back into the IR).
    /// </summary>
    private static string LogisticWhere(OnnxLoweringContext c, string x, bool[] mask, long[] dims, string? into = null) =>
        c.Binary("Add",
            c.Binary("Mul", c.Unary("Sigmoid", x), c.Floats("logistic", [.. mask.Select(m => m ? 1f : 0f)], dims)),
            c.Binary("Mul", x, c.Floats("identity", [.. mask.Select(m => m ? 0f : 1f)], dims)),
            into);

    /// <summary>The planes a head's entries are counted in (channels of an image, values of a flat item) and the dims of a per-plane constant.</summary>
    private static (int Planes, long[] Dims) Planes(Shape x) =>
        x.Rank == 4 ? ((int)x.C, [1, x.C, 1, 1]) : ((int)x.ElementsPerItem, [1, .. x.Dims.Skip(1)]);

    /// <summary>
    /// [region], pjreddie's planes: Sigmoid of x, y and the objectness by mask (<see cref="LogisticWhere"/>); the classes get a
    /// Softmax across their planes per cell (Reshape to (N, num, entries, cells), Slice, Softmax on
    /// axis 2, Concat) or a Sigmoid. AlexeyAB's boxes: Transpose to one record per cell and anchor first,
    /// then Sigmoid of entry 4 and Softmax over entries 5 … 5+classes. With a class tree, the classes'
    /// Softmax is one per group of siblings (<see cref="OnnxShapeLowering.GroupedSoftmax"/>).
    /// </summary>
    public static void Region(OnnxLoweringContext c)
    {
        var a = c.Node.AttributesAs<DarknetRegionAttributes>();
        var x = c.InputShape(0);
        var size = a.Coords + a.Classes + 1;
        var cells = x.ElementsPerItem / (a.Num * size);
        if (!a.BoxesLayout)
        {
            if (!a.Softmax && !a.Hierarchical)
            {
                Head(c, a.Num, size, e => e is 0 or 1 || e >= a.Coords, _ => false, 1);
                return;
            }

            var grouped = c.Reshape(c.Input(0), x, [x[0], a.Num, size, cells]);
            var boxShape = new Shape(x[0], a.Num, a.Coords + 1, cells);
            var box = c.Slice(grouped, [0], [a.Coords + 1], [2]);
            var boxMask = Enumerable.Range(0, (int)(a.Coords + 1)).Select(e => e is 0 or 1 || e == a.Coords).ToArray();
            var activated = LogisticWhere(c, box, boxMask, [1, 1, a.Coords + 1, 1]);
            var classLogits = c.Slice(grouped, [a.Coords + 1], [size], [2]);
            var classes = ClassSoftmax(c, a, classLogits, new Shape(x[0], a.Num, a.Classes, cells));
            var joined = c.Emit("Concat", [activated, classes], [Int("axis", 2)]);
            c.Reshape(joined, boxShape.WithDim(2, size), x.Dims, c.Output());
            return;
        }

        var classSoftmax = a.Softmax || a.Hierarchical;
        if (a.Coords < 4 || (classSoftmax && 5 + a.Classes > size))
        {
            throw c.Refuse(DiagnosticCodes.ExportNotExpressible, $"[region] with coords={a.Coords}: AlexeyAB's record layout activates entries 4 and 5… at fixed places, which these records do not have.");
        }

        var channels = size * a.Num;
        var records = c.Emit("Transpose", [c.Reshape(c.Input(0), x, [x[0], channels, cells])], [Ints("perm", [0, 2, 1])]);
        var boxes = c.Reshape(records, new Shape(x[0], cells, channels), [x[0], cells * a.Num, size]);
        var recordMask = Enumerable.Range(0, (int)size).Select(e => e == 4).ToArray();
        var objectness = LogisticWhere(c, boxes, recordMask, [1, 1, size]);
        var result = objectness;
        if (classSoftmax)
        {
            var head = c.Slice(objectness, [0], [5], [2]);
            var classLogits = c.Slice(objectness, [5], [5 + a.Classes], [2]);
            var classes = ClassSoftmax(c, a, classLogits, new Shape(x[0], cells * a.Num, a.Classes));
            List<string> parts = [head, classes];
            if (5 + a.Classes < size)
            {
                parts.Add(c.Slice(objectness, [5 + a.Classes], [size], [2]));
            }

            result = c.Emit("Concat", parts, [Int("axis", 2)]);
        }

        c.Reshape(result, new Shape(x[0], cells * a.Num, size), x.Dims, c.Output());
    }

    /// <summary>A [region] head's class softmax along axis 2 of <paramref name="classLogits"/> (of <paramref name="shape"/>): one per group of the class tree, or one over all classes.</summary>
    private static string ClassSoftmax(OnnxLoweringContext c, DarknetRegionAttributes a, string classLogits, Shape shape) => a.Hierarchical
        ? OnnxShapeLowering.GroupedSoftmax(c, classLogits, shape, 2, OnnxShapeLowering.ClassGroups(c, a.ClassGroups, a.MissingClassTree))
        : c.Emit("Softmax", [classLogits], [Int("axis", 2)]);

    /// <summary>[detection] (YOLOv1): with softmax=1 a Softmax over each cell's classes (the first side²*classes values of the item); otherwise the input.</summary>
    public static void Detection(OnnxLoweringContext c)
    {
        var a = c.Node.AttributesAs<DarknetDetectionAttributes>();
        var x = c.InputShape(0);
        if (!a.Softmax)
        {
            c.Unary("Identity", c.Input(0), c.Output());
            return;
        }

        var probabilities = a.Side * a.Side * a.Classes;
        var items = x.ElementsPerItem;
        var flat = c.Emit("Flatten", [c.Input(0)], [Int("axis", 1)]);
        var perCell = c.Reshape(c.Slice(flat, [0], [probabilities], [1]), new Shape(x[0], probabilities), [x[0], a.Side * a.Side, a.Classes]);
        var softmax = c.Reshape(c.Emit("Softmax", [perCell], [Int("axis", -1)]), new Shape(x[0], a.Side * a.Side, a.Classes), [x[0], probabilities]);
        var joined = probabilities < items ? c.Emit("Concat", [softmax, c.Slice(flat, [probabilities], [items], [1])], [Int("axis", 1)]) : softmax;
        c.Reshape(joined, new Shape(x[0], items), x.Dims, c.Output());
    }

    /// <summary>[crop] at inference → Slice of the centred window, then x*2 - 1 unless noadjust.</summary>
    public static void Crop(OnnxLoweringContext c)
    {
        var noAdjust = c.Node.AttributesAs<DarknetCropAttributes>().NoAdjust;
        var x = c.InputShape(0);
        var y = c.OutputShape();
        var dh = (x.H - y.H) / 2;
        var dw = (x.W - y.W) / 2;
        var window = c.Slice(c.Input(0), [dh, dw], [dh + y.H, dw + y.W], [2, 3], null, noAdjust ? c.Output() : null);
        if (!noAdjust)
        {
            c.Binary("Add", c.Binary("Mul", window, c.Scalar("two", 2f)), c.Scalar("minus_one", -1f), c.Output());
        }
    }
}
