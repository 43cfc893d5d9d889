using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Onnx;

/// <summary>
/// Operators whose operands moved between opsets (attributes that became inputs, changed defaults):
/// each is read the way the model's opset defines it and emitted in one IR form.
/// </summary>
internal static class OnnxOpsetNormalisation
{
    /// <summary>Clip: bounds are attributes before opset 11, optional inputs since; the ReLU-shaped ones become ReLU / ReLU6.</summary>
    public static void Clip(OnnxNode n)
    {
        double min, max;
        if (n.Opset >= 11)
        {
            min = n.Has(1) ? n.Scalar(1, "min") : double.NegativeInfinity;
            max = n.Has(2) ? n.Scalar(2, "max") : double.PositiveInfinity;
        }
        else
        {
            min = n.Attr.Float("min", float.MinValue);
            max = n.Attr.Float("max", float.MaxValue);
        }

        if (min == 0 && max == 6)
        {
            n.Activation("relu6");
        }
        else if (min == 0 && (double.IsPositiveInfinity(max) || max >= float.MaxValue))
        {
            n.Activation("relu");
        }
        else
        {
            n.Activation("clip", new Attributes().Set("min", min).Set("max", max));
        }
    }

    public static void Softmax(OnnxNode n)
    {
        // Before opset 13 Softmax flattens the axes from `axis` on into one and normalises over them all.
        var attributes = new Attributes().Set("axis", n.Attr.Int("axis", n.Opset >= 13 ? -1 : 1));
        if (n.Opset < 13)
        {
            attributes.Set("coerce_2d", 1L);
        }

        n.Emit("Softmax", [n.X], attributes);
    }

    /// <summary>Split: sizes as an attribute, as an input (opset 13) or as equal chunks (the last smaller from opset 18).</summary>
    /// <summary>
    /// Split → one canonical StridedSlice per output, [bound i, bound i+1) along the axis: sizes from
    /// <c>split</c> (attribute, or input from opset 13), equal parts otherwise (opset 18's
    /// num_outputs: the last part smaller when the axis does not divide).
    /// </summary>
    public static void Split(OnnxNode n)
    {
        var x = n.Value(0);
        var shape = n.ShapeOf(x);
        var axis = n.Axes([n.Attr.Int("axis", 0)], shape.Rank, "axis")[0];
        var outputs = n.Proto.Output.Count;
        if (n.Proto.Output.Any(o => o.Length == 0))
        {
            throw n.Invalid("an unnamed (omitted) output is not supported; name every piece");
        }

        var sizes = n.Attr.Ints("split") ?? n.OptionalInts(1, "split");
        if (sizes is not null && (sizes.Length != outputs || sizes.Any(size => size < 0 || size > shape[axis]) || sizes.Aggregate(0L, Checked.Add) != shape[axis]))
        {
            throw n.Invalid($"split sizes [{string.Join(", ", sizes)}] do not cut axis {axis} of {shape} into {outputs} outputs");
        }

        if (outputs == 1)
        {
            n.Emit("Identity", [x], new Attributes(), inPlace: true);
            return;
        }

        var chunk = (shape[axis] + outputs - 1) / outputs;
        sizes ??= [.. Enumerable.Range(0, outputs).Select(i => Math.Min(chunk, shape[axis] - (i * chunk)))];
        long start = 0;
        for (var i = 0; i < outputs; i++)
        {
            n.EmitPart(i, "StridedSlice", [x], new Attributes().Set("starts", new[] { start }).Set("ends", new[] { start + sizes[i] }).Set("axes", new[] { (long)axis }));
            start += sizes[i];
        }
    }

    public static void Slice(OnnxNode n)
    {
        var (starts, ends, axes, steps) = SliceSpec(n);
        var rank = n.ShapeOf(n.X).Rank;
        if (axes.Select(a => OnnxNode.Norm(a, rank, clamp: false)).Distinct().Count() != axes.Length)
        {
            throw n.Invalid($"axes [{string.Join(", ", axes)}] name an axis twice");
        }

        n.Emit("StridedSlice", [n.X], new Attributes().Set("starts", starts).Set("ends", ends).Set("axes", axes).Set("steps", steps));
    }

    /// <summary>Slice's starts, ends, axes and steps: attributes before opset 10, inputs 1 to 4 since; axes and steps defaulted.</summary>
    public static (long[] Starts, long[] Ends, long[] Axes, long[] Steps) SliceSpec(OnnxNode n)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (n.Opset < 10)
        {
            starts = n.Attr.Ints("starts") ?? throw n.Invalid("starts are missing");
            ends = n.Attr.Ints("ends") ?? throw n.Invalid("ends are missing");
            axes = n.Attr.Ints("axes");
        }
        else
        {
            starts = n.Ints(1, "starts");
            ends = n.Ints(2, "ends");
            axes = n.OptionalInts(3, "axes");
            steps = n.OptionalInts(4, "steps");
        }

        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        return (starts, ends, axes, steps);
    }

    /// <summary>Pad: pads and value as attributes before opset 11, inputs since; opset 18's axes widened to every axis.</summary>
    public static void Pad(OnnxNode n)
    {
        var x = n.Value(0);
        var rank = n.ShapeOf(x).Rank;
        var mode = n.Attr.String("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge"))
        {
            throw n.Invalid($"mode '{mode}' is not one of constant, reflect, edge");
        }

        var pads = n.Opset >= 11 ? n.Ints(1, "pads") : n.Attr.Ints("pads") ?? throw n.Invalid("pads are missing");
        double value = n.Attr.Float("value", 0f);
        if (n.Opset >= 11 && n.Has(2))
        {
            value = n.Scalar(2, "constant_value");
        }

        if (n.Has(3))
        {
            // Opset 18: pads for the listed axes only; the others are not padded.
            var axes = n.Ints(3, "axes").Select(a => OnnxNode.Norm(a, rank, clamp: false)).ToArray();
            if (pads.Length != 2 * axes.Length || axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length)
            {
                throw n.Invalid($"axes [{string.Join(", ", axes)}] with pads [{string.Join(", ", pads)}] do not name distinct axes of {n.ShapeOf(x)} with a begin and an end each");
            }

            var full = new long[2 * rank];
            for (var i = 0; i < axes.Length; i++)
            {
                full[axes[i]] = pads[i];
                full[axes[i] + rank] = pads[i + axes.Length];
            }

            pads = full;
        }

        if (pads.Any(p => p < 0))
        {
            throw n.Invalid($"negative pads [{string.Join(", ", pads)}] (cropping) are not supported");
        }

        if (mode == "reflect" && pads.Length == 2 * rank && Enumerable.Range(0, rank).Any(i => (pads[i] > 0 || pads[i + rank] > 0) && n.ShapeOf(x)[i] < 2))
        {
            throw n.Invalid($"reflect padding of an axis of length 1 in {n.ShapeOf(x)} has nothing to reflect");
        }

        n.Emit("Pad", [x], new Attributes().Set("pads", pads).Set("mode", mode).Set("value", value));
    }
}
