using NeuralBuild.Engine.Execution.Primitives;
using NeuralBuild.Engine.Execution;

namespace NeuralBuild.Engine.Ops;

/// <summary>
/// ONNX Resize (and Upsample, which the reader maps here with the coordinate rule of its opset).
/// Every output position <c>o</c> of an axis of input length <c>n</c> and scale <c>s</c> (the given
/// scale, or <c>out / n</c> for sizes) maps to an input coordinate by
/// <c>coordinate_transformation_mode</c>, with <c>L = s * n</c> the resized length as ONNX's test
/// data computes it: half_pixel <c>(o + 0.5) / s - 0.5</c>; pytorch_half_pixel the same when
/// <c>L &gt; 1</c>, else 0; align_corners <c>o * (n - 1) / (L - 1)</c> (0 when <c>L = 1</c>);
/// asymmetric <c>o / s</c>; tf_half_pixel_for_nn <c>(o + 0.5) / s</c>; tf_crop_and_resize
/// <c>roi_start * (n - 1) + o * (roi_end - roi_start) * (n - 1) / (L - 1)</c>, where a coordinate
/// outside [0, n - 1] yields <c>extrapolation_value</c>. <c>mode</c> then reads: nearest, the input
/// at the coordinate rounded by <c>nearest_mode</c>; linear, the two neighbours weighted by the
/// distance; cubic, four neighbours with Keys' coefficients for <c>cubic_coeff_a</c>, renormalised
/// over the in-range ones with <c>exclude_outside</c>. Neighbours beyond the border read the
/// border element. The resize is separable: the axes are resized one after the other, the last
/// first (the order in which ONNX's reference recurses), in double, rounding to float32 once.
/// </summary>
internal sealed class ResizeKernel : Kernel
{
    public override void Run(KernelContext context)
    {
        var x = context.Input(0);
        var y = context.Output;
        var rank = x.Shape.Rank;
        var a = context.AttributesAs<ResizeAttributes>();
        var mode = a.Mode;
        var transform = a.CoordinateTransformation;
        var nearest = a.NearestMode;
        var cubicA = a.CubicCoefficient;
        var excludeOutside = a.ExcludeOutside;
        var extrapolation = a.ExtrapolationValue;
        var roi = a.Roi;
        var scales = a.Scales;
        if (mode is not ("nearest" or "linear" or "cubic"))
        {
            throw context.Unsupported($"resize mode '{mode}'");
        }

        if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "tf_crop_and_resize"))
        {
            throw context.Unsupported($"coordinate_transformation_mode '{transform}'");
        }

        if (transform == "tf_crop_and_resize" && (roi is null || roi.Length != 2 * rank))
        {
            throw context.Unsupported("tf_crop_and_resize without a roi of two values per axis");
        }

        var dims = x.Shape.Dims.Select(d => checked((int)d)).ToArray();
        var axisTaps = new AxisTaps[rank];
        for (var axis = 0; axis < rank; axis++)
        {
            var n = dims[axis];
            var m = checked((int)y.Shape[axis]);
            var scale = scales is not null ? scales[axis] : (double)m / n;
            axisTaps[axis] = Taps(context, n, m, scale, mode, transform, nearest, cubicA, excludeOutside, roi is null ? null : (roi[axis], roi[axis + rank]));
        }

        if (axisTaps.All(t => t.IsSelection))
        {
            GatherSelected(context, x.Data, dims, y.Data, [.. y.Shape.Dims.Select(d => checked((int)d))], axisTaps);
            return;
        }

        var current = new double[x.Data.Length];
        for (var i = 0; i < current.Length; i++)
        {
            current[i] = x.Data[i];
        }

        for (var axis = rank - 1; axis >= 0; axis--)
        {
            var m = checked((int)y.Shape[axis]);
            var taps = axisTaps[axis];
            if (taps.IsIdentity)
            {
                continue;
            }

            current = ResizeAxis(context, current, dims, axis, m, taps, extrapolation);
            dims[axis] = m;
        }

        if (current.Length != y.Data.Length)
        {
            throw context.Error($"the resized values ({current.Length}) do not fill the output {y.Shape}.");
        }

        for (var i = 0; i < current.Length; i++)
        {
            y.Data[i] = (float)current[i];
        }
    }

    /// <summary>
    /// A resize in which every output element copies one input element (nearest neighbour, Darknet's
    /// [upsample]) gathers float32 directly, row by row along the last axis: the separable double
    /// passes would compute the same values, slower and through two full-size double buffers.
    /// </summary>
    private static void GatherSelected(KernelContext context, float[] source, int[] inDims, float[] destination, int[] outDims, AxisTaps[] taps)
    {
        var rank = inDims.Length;
        var inStrides = new long[rank];
        var stride = 1L;
        for (var axis = rank - 1; axis >= 0; axis--)
        {
            inStrides[axis] = stride;
            stride *= inDims[axis];
        }

        var inner = rank == 0 ? 1 : outDims[^1];
        var lastIndex = rank == 0 ? [0] : taps[^1].Index;
        var rows = destination.Length / Math.Max(1, inner);
        ParallelWork.For(context, rows, Math.Max(1, (1 << 14) / Math.Max(1, inner)), (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                var rest = row;
                var inBase = 0L;
                for (var axis = rank - 2; axis >= 0; axis--)
                {
                    var o = (int)(rest % outDims[axis]);
                    rest /= outDims[axis];
                    inBase += taps[axis].Index[o] * inStrides[axis];
                }

                var dst = destination.AsSpan(checked((int)(row * inner)), inner);
                for (var o = 0; o < dst.Length; o++)
                {
                    dst[o] = source[inBase + lastIndex[o]];
                }
            }
        });
    }

    /// <summary>For each output position of one axis: <see cref="AxisTaps.Count"/> input positions and weights, or extrapolation.</summary>
    private sealed record AxisTaps(int InputLength, int Count, int[] Index, double[] Weight, bool[] Outside)
    {
        /// <summary>True when every output position copies one input element (nearest, nothing extrapolated): no arithmetic at all.</summary>
        public bool IsSelection => Count == 1 && !Outside.Contains(true) && Weight.All(w => w == 1);

        /// <summary>True when every output position reads the input at the same position alone: the axis keeps its values.</summary>
        public bool IsIdentity
        {
            get
            {
                var length = Outside.Length;
                if (InputLength != length)
                {
                    return false;
                }

                for (var o = 0; o < length; o++)
                {
                    if (Outside[o])
                    {
                        return false;
                    }

                    for (var t = 0; t < Count; t++)
                    {
                        var w = Weight[(o * Count) + t];
                        if (w != 0 && (w != 1 || Index[(o * Count) + t] != o))
                        {
                            return false;
                        }
                    }
                }

                return true;
            }
        }
    }

    private static AxisTaps Taps(KernelContext context, int n, int m, double scale, string mode, string transform, string nearest, double cubicA, bool excludeOutside, (double Start, double End)? roi)
    {
        var count = mode switch { "nearest" => 1, "linear" => 2, _ => 4 };
        var index = new int[m * count];
        var weight = new double[m * count];
        var outside = new bool[m];
        var resized = scale * n;
        Span<double> c = stackalloc double[4];
        for (var o = 0; o < m; o++)
        {
            double coordinate;
            switch (transform)
            {
                case "half_pixel":
                    coordinate = ((o + 0.5) / scale) - 0.5;
                    break;
                case "pytorch_half_pixel":
                    coordinate = resized > 1 ? ((o + 0.5) / scale) - 0.5 : 0;
                    break;
                case "align_corners":
                    coordinate = resized == 1 ? 0 : o * (n - 1) / (resized - 1);
                    break;
                case "asymmetric":
                    coordinate = o / scale;
                    break;
                case "tf_half_pixel_for_nn":
                    coordinate = (o + 0.5) / scale;
                    break;
                default:
                    {
                        var (start, end) = roi!.Value;
                        coordinate = (resized == 1 ? (end - start) * (n - 1) / 2 : o * (end - start) * (n - 1) / (resized - 1)) + (start * (n - 1));
                        if (coordinate < 0 || coordinate > n - 1)
                        {
                            outside[o] = true;
                            continue;
                        }

                        break;
                    }
            }

            var floor = Math.Floor(coordinate);
            var ratio = coordinate - floor;
            var at = o * count;
            if (!double.IsFinite(coordinate))
            {
                throw context.Error($"output position {o} maps to the input coordinate {coordinate}.");
            }

            if (mode == "nearest" || ratio == 0)
            {
                var p = ratio == 0 ? floor : nearest switch
                {
                    "round_prefer_floor" => ratio <= 0.5 ? floor : floor + 1,
                    "round_prefer_ceil" => ratio < 0.5 ? floor : floor + 1,
                    "floor" => floor,
                    "ceil" => floor + 1,
                    _ => throw context.Unsupported($"nearest_mode '{nearest}'"),
                };
                index[at] = Clamp(p, n);
                weight[at] = 1;
                continue;
            }

            var first = (long)floor - (count / 2) + 1;
            if (count == 2)
            {
                c[0] = 1 - ratio;
                c[1] = ratio;
            }
            else
            {
                c[0] = ((((cubicA * (ratio + 1)) - (5 * cubicA)) * (ratio + 1)) + (8 * cubicA)) * (ratio + 1) - (4 * cubicA);
                c[1] = ((((cubicA + 2) * ratio) - (cubicA + 3)) * ratio * ratio) + 1;
                c[2] = ((((cubicA + 2) * (1 - ratio)) - (cubicA + 3)) * (1 - ratio) * (1 - ratio)) + 1;
                c[3] = ((((cubicA * (2 - ratio)) - (5 * cubicA)) * (2 - ratio)) + (8 * cubicA)) * (2 - ratio) - (4 * cubicA);
            }

            if (excludeOutside)
            {
                double sum = 0;
                for (var t = 0; t < count; t++)
                {
                    var p = first + t;
                    if (p < 0 || p >= n)
                    {
                        c[t] = 0;
                    }

                    sum += c[t];
                }

                for (var t = 0; t < count; t++)
                {
                    c[t] /= sum;
                }
            }

            for (var t = 0; t < count; t++)
            {
                index[at + t] = Clamp(first + t, n);
                weight[at + t] = c[t];
            }
        }

        return new AxisTaps(n, count, index, weight, outside);
    }

    private static int Clamp(double position, int n) => (int)Math.Clamp(position, 0, n - 1);

    /// <summary>Resizes axis <paramref name="axis"/> of <paramref name="source"/> (shape <paramref name="dims"/>) to <paramref name="length"/>.</summary>
    private static double[] ResizeAxis(KernelContext context, double[] source, int[] dims, int axis, int length, AxisTaps taps, double extrapolation)
    {
        long outer = 1, inner = 1;
        for (var i = 0; i < axis; i++)
        {
            outer *= dims[i];
        }

        for (var i = axis + 1; i < dims.Length; i++)
        {
            inner *= dims[i];
        }

        var n = dims[axis];
        var result = new double[checked(outer * length * inner)];
        var count = taps.Count;
        ParallelWork.For(context, outer, Math.Max(1, (1 << 14) / Math.Max(1, length * inner)), (start, end) =>
        {
            for (var b = start; b < end; b++)
            {
                var inBase = b * n * inner;
                for (var o = 0; o < length; o++)
                {
                    var dst = result.AsSpan(checked((int)(((b * length) + o) * inner)), checked((int)inner));
                    if (taps.Outside[o])
                    {
                        dst.Fill(extrapolation);
                        continue;
                    }

                    dst.Clear();
                    for (var t = 0; t < count; t++)
                    {
                        var w = taps.Weight[(o * count) + t];
                        if (w == 0)
                        {
                            continue;
                        }

                        var src = source.AsSpan(checked((int)(inBase + (taps.Index[(o * count) + t] * inner))), checked((int)inner));
                        for (var i = 0; i < dst.Length; i++)
                        {
                            dst[i] += w * src[i];
                        }
                    }
                }
            }
        });

        return result;
    }
}
