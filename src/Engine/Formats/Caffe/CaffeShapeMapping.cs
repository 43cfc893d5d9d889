using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Concat, Slice, Reshape, Flatten and Permute: layers that move or regroup values without computing.
/// </summary>
internal static class CaffeShapeMapping
{
    public static void ConcatLayer(CaffeLayerContext layer)
    {
        var c = layer.P.ConcatParam ?? new ConcatParameter();
        if (c.HasAxis && c.HasConcatDim)
        {
            throw layer.Invalid(c, "concat_dim", "give either axis or concat_dim, not both.");
        }

        var axis = c.HasConcatDim ? (long)c.ConcatDim : c.Axis;
        var inputs = layer.Bottoms(1, int.MaxValue);
        layer.Axis(c, c.HasConcatDim ? "concat_dim" : "axis", axis, layer.ShapeOf(inputs[0]));
        layer.Emit("Concat", inputs, 1, configure: a => a.Set("axis", axis));
    }

    public static void SliceLayer(CaffeLayerContext layer)
    {
        var s = layer.P.SliceParam ?? new SliceParameter();
        if (s.HasAxis && s.HasSliceDim)
        {
            throw layer.Invalid(s, "slice_dim", "give either axis or slice_dim, not both.");
        }

        var axis = s.HasSliceDim ? (long)s.SliceDim : s.Axis;
        var tops = layer.P.Top.Count;
        if (tops < 1)
        {
            throw layer.Invalid("type", "a Slice layer needs at least one top.");
        }

        var input = layer.Bottoms(1, 1)[0];
        var x = layer.ShapeOf(input);
        var length = x[(int)layer.Axis(s, s.HasSliceDim ? "slice_dim" : "axis", axis, x)];
        if (s.SlicePoint.Count > 0 && s.SlicePoint.Count != tops - 1)
        {
            throw layer.Invalid(s, "slice_point", $"{s.SlicePoint.Count} slice_point(s) for {tops} tops; give one fewer than the tops.");
        }

        for (var i = 0; i < s.SlicePoint.Count; i++)
        {
            var previous = i == 0 ? 0 : s.SlicePoint[i - 1];
            if (s.SlicePoint[i] <= previous || s.SlicePoint[i] >= length)
            {
                throw layer.Invalid(s, "slice_point", i,
                    $"slice_point {s.SlicePoint[i]} must lie after {previous} and before {length}, the length of axis {axis} of {x}: slice points increase strictly and every slice is non-empty.");
            }
        }

        if (s.SlicePoint.Count == 0 && length % tops != 0)
        {
            throw layer.Invalid(s, s.HasSliceDim ? "slice_dim" : "axis", $"axis {axis} of {x} has {length} entries, not divisible into {tops} equal slices (give slice_point).");
        }

        // One canonical StridedSlice per top: [bound i, bound i+1) along the axis.
        var bounds = s.SlicePoint.Count > 0
            ? [0L, .. s.SlicePoint.Select(v => (long)v), length]
            : Enumerable.Range(0, tops + 1).Select(i => length / tops * i).ToArray();
        for (var i = 0; i < tops; i++)
        {
            var (start, end) = (bounds[i], bounds[i + 1]);
            layer.EmitTop(i, "StridedSlice", [input], a => a.Set("starts", new[] { start }).Set("ends", new[] { end }).Set("axes", new[] { axis }));
        }
    }

    public static void ReshapeLayer(CaffeLayerContext layer)
    {
        var r = layer.P.ReshapeParam ?? throw layer.Invalid("type", "a Reshape layer needs reshape_param { shape { dim … } }.");
        var dims = r.Shape?.Dim.ToArray() ?? [];
        var inputs = layer.Bottoms(1, 1);
        var x = layer.ShapeOf(inputs[0]);
        if (dims.Length > CaffeNetState.MaxAxes)
        {
            throw DiagnosticCodes.CaffeInvalidParameter.Exception(layer.Map.Of(r.Shape, BlobShape.DimFieldNumber, CaffeNetState.MaxAxes),
                $"layer '{layer.P.Name}' [Reshape]: {dims.Length} dims; a Caffe blob has at most {CaffeNetState.MaxAxes} axes (Caffe's kMaxBlobAxes).");
        }

        var bad = Array.FindIndex(dims, d => d < -1 || d > ModelLimits.MaxElements);
        var inferred = Array.FindAll(dims, d => d == -1).Length;
        if (bad >= 0 || inferred > 1)
        {
            var at = bad >= 0 ? bad : Array.LastIndexOf(dims, -1L);
            throw DiagnosticCodes.CaffeInvalidParameter.Exception(layer.Map.Of(r.Shape, BlobShape.DimFieldNumber, at),
                $"layer '{layer.P.Name}' [Reshape]: dim {dims[at]}: " + (bad >= 0
                    ? $"a dim is 0 (copy the bottom's), -1 (infer) or a size of at most {ModelLimits.MaxElements:N0}."
                    : "only one dim may be -1 (inferred)."));
        }

        // Caffe: axis in [-(rank + 1), rank], num_axes -1 (to the end) or a count of the axes left.
        var start = r.Axis < 0 ? r.Axis + x.Rank + 1 : r.Axis;
        if (start < 0 || start > x.Rank)
        {
            throw layer.Invalid(r, "axis", $"axis {r.Axis} is outside {-(x.Rank + 1)} to {x.Rank} for the bottom {x}.");
        }

        if (r.NumAxes < -1 || (r.NumAxes >= 0 && start + r.NumAxes > x.Rank))
        {
            throw layer.Invalid(r, "num_axes", $"num_axes {r.NumAxes} selects axes beyond the {x.Rank} of the bottom {x} from axis {r.Axis}.");
        }

        layer.Emit("Reshape", inputs, 1, configure: a => a.Set("shape", dims).Set("axis", (long)r.Axis).Set("num_axes", (long)r.NumAxes), forceInPlace: true);
    }

    public static void FlattenLayer(CaffeLayerContext layer)
    {
        var f = layer.P.FlattenParam ?? new FlattenParameter();
        var inputs = layer.Bottoms(1, 1);
        var x = layer.ShapeOf(inputs[0]);
        var start = layer.Axis(f, "axis", f.Axis, x);
        if (layer.Axis(f, "end_axis", f.EndAxis, x) < start)
        {
            throw layer.Invalid(f, "end_axis", $"end_axis {f.EndAxis} comes before axis {f.Axis} in the bottom {x}.");
        }

        layer.Emit("Flatten", inputs, 1, configure: a => a.Set("axis", (long)f.Axis).Set("end_axis", (long)f.EndAxis), forceInPlace: true);
    }

    public static void PermuteLayer(CaffeLayerContext layer)
    {
        var order = layer.P.PermuteParam?.Order ?? [];
        var inputs = layer.Bottoms(1, 1);
        var x = layer.ShapeOf(inputs[0]);
        var seen = new HashSet<uint>();
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i] >= x.Rank || !seen.Add(order[i]))
            {
                throw layer.Invalid(layer.P.PermuteParam!, "order", i,
                    $"order {order[i]} {(order[i] >= x.Rank ? $"is not an axis of the bottom {x}" : "is given twice")}; order lists distinct axes 0 to {x.Rank - 1}.");
            }
        }

        layer.Emit("Permute", inputs, 1, configure: a => a.Set("order", order.Select(o => (long)o).ToArray()));
    }
}
