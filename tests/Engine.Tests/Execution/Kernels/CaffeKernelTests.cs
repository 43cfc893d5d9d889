using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Execution;
using NeuralBuild.Engine.Ir;
using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

/// <summary>Kernels of the Caffe op kinds; every expected value is worked out in the comment beside it.</summary>
[TestClass]
public sealed class CaffeKernelTests
{
    [TestMethod]
    public void Power_shifts_scales_then_raises()
    {
        // (1 + 2x)^2 at x = 0, 1, -1: 1, 9, 1.
        var y = Run("Power", T([1, 3], 0, 1, -1), a => a.Set("power", 2.0).Set("scale", 2.0).Set("shift", 1.0));
        AssertValues([1, 9, 1], y);
    }

    [TestMethod]
    public void Channel_affine_with_a_bias_only_adds_one_value_per_channel()
    {
        // Caffe Bias: x + b_c.
        var y = Run("ChannelAffine", Iota(1, 2, 1, 2), null, (Tensor?)null, T([2], 10, 20));
        AssertValues([10, 11, 22, 23], y);
    }

    [TestMethod]
    public void Channel_affine_scales_then_shifts_each_channel()
    {
        // Caffe Scale: x * s_c (+ t_c). Channels [0, 1] and [2, 3]; s = (2, -1), t = (0.5, 4).
        var scaled = Run("ChannelAffine", Iota(1, 2, 1, 2), null, T([2], 2, -1));
        AssertValues([0, 2, -2, -3], scaled);
        var both = Run("ChannelAffine", Iota(1, 2, 1, 2), null, T([2], 2, -1), T([2], 0.5f, 4));
        AssertValues([0.5f, 2.5f, 2, 1], both);
    }

    [TestMethod]
    public void Transposed_inner_product_reads_weights_stored_inputs_by_outputs()
    {
        // W (I=2, J=3) rows (1 2 3), (4 5 6); x = (1, 2): y_j = W[0,j] + 2 W[1,j] = (9, 12, 15).
        var y = Run("FullyConnected", T([1, 2], 1, 2), a => a.Set("transpose", 1L).Set("output_rank", 2L), T([2, 3], 1, 2, 3, 4, 5, 6));
        AssertValues([9, 12, 15], y);
    }

    [TestMethod]
    public void Global_max_pool_takes_each_plane_maximum()
    {
        var y = Run("GlobalMaxPool", T([1, 2, 2, 2], 1, -3, 2, 0, -5, -1, -2, -7));
        Assert.AreEqual(Shape.Nchw(1, 2, 1, 1), y.Shape);
        AssertValues([2, -1], y);
    }

    [TestMethod]
    public void Caffe_softmax_runs_along_the_channel_axis_at_each_position()
    {
        // Position 0: logits (0, ln 3) -> (1, 3) / 4; position 1: (0, 0) -> (0.5, 0.5).
        var y = Run("Softmax", T([1, 2, 1, 2], 0, 0, (float)Math.Log(3), 0), a => a.Set("axis", 1L));
        AssertValues([0.25f, 0.5f, 0.75f, 0.5f], y, 1e-6f);
    }

    [TestMethod]
    public void Normalize_divides_by_the_l2_norm_over_channels_and_scales_per_channel()
    {
        // (3, 4) has norm 5: (0.6 * 2, 0.8 * 10).
        var y = Run("Normalize", T([1, 2, 1, 1], 3, 4), a => a.Set("across_spatial", 0L).Set("channel_shared", 0L).Set("epsilon", 0.0), T([2], 2, 10));
        AssertValues([1.2f, 8], y, 1e-6f);
    }

    [TestMethod]
    public void Normalize_across_spatial_uses_one_norm_per_image()
    {
        // Values 3 and 4 in two pixels of one channel: norm 5, shared scale 1.
        var y = Run("Normalize", T([1, 1, 1, 2], 3, 4), a => a.Set("across_spatial", 1L).Set("channel_shared", 1L).Set("epsilon", 0.0), T([1], 1));
        AssertValues([0.6f, 0.8f], y, 1e-6f);
    }

    [TestMethod]
    public void Caffe_lrn_across_channels_divides_alpha_by_size()
    {
        // size 3, alpha 3, beta 1, k 1 on (1, 2, 3): windows {c0,c1}, {c0,c1,c2}, {c1,c2} give sums
        // 5, 14, 13; scale = 1 + 3/3 * sum = 6, 15, 14; y = x / scale.
        var y = Run("LRN", T([1, 3, 1, 1], 1, 2, 3), a => a.Set("size", 3L).Set("alpha", 3.0).Set("beta", 1.0).Set("kappa", 1.0).Set("region", "across_channels"));
        AssertValues([1f / 6, 2f / 15, 3f / 14], y, 1e-6f);
    }

    [TestMethod]
    public void Caffe_lrn_within_channel_averages_over_the_padded_square()
    {
        // size 3, alpha 9, beta 1 on one 1x2 plane (1, 2): each window holds both pixels, sum 5;
        // scale = 1 + 9/9 * 5 = 6.
        var y = Run("LRN", T([1, 1, 1, 2], 1, 2), a => a.Set("size", 3L).Set("alpha", 9.0).Set("beta", 1.0).Set("kappa", 5.0).Set("region", "within_channel"));
        AssertValues([1f / 6, 2f / 6], y, 1e-6f);
    }

    [TestMethod]
    public void Caffe_average_pool_divides_by_the_window_clipped_to_the_padded_input()
    {
        // 2x2 input (1 2 / 3 4), kernel 3, stride 2, pad 1, ceil: 2x2 output. Rows of window 0 run
        // -1..1 (3 within the padded input), of window 1 run 1..3 clipped to 1..2 (2). Sums of the
        // in-image values: 10, 6, 7, 4; divisors 3*3, 3*2, 2*3, 2*2.
        var y = Run("AveragePool", T([1, 1, 2, 2], 1, 2, 3, 4), a => a.Set("kernel_shape", [3L, 3L]).Set("strides", [2L, 2L])
            .Set("pads", [1L, 1L, 1L, 1L]).Set("rounding", "ceil_caffe").Set("count_include_pad", 1L));
        Assert.AreEqual(Shape.Nchw(1, 1, 2, 2), y.Shape);
        AssertValues([10f / 9, 1, 7f / 6, 1], y, 1e-6f);
    }

    [TestMethod]
    public void Caffe_average_pool_rounded_up_window_without_padding()
    {
        // 3x3 iota, kernel 2, stride 2, ceil: 2x2 output; the last row/column windows hold 1 entry each way.
        var y = Run("AveragePool", Iota(1, 1, 3, 3), a => a.Set("kernel_shape", [2L, 2L]).Set("strides", [2L, 2L])
            .Set("pads", [0L, 0L, 0L, 0L]).Set("rounding", "ceil_caffe").Set("count_include_pad", 1L));
        AssertValues([2, 3.5f, 6.5f, 8], y);
    }

    [TestMethod]
    public void Flatten_and_reshape_keep_the_row_major_order()
    {
        var flat = Run("Flatten", Iota(1, 2, 1, 2), a => a.Set("axis", 1L).Set("end_axis", -1L));
        Assert.AreEqual(new Shape(1, 4), flat.Shape);
        AssertValues([0, 1, 2, 3], flat);
        var reshaped = Run("Reshape", Iota(1, 4), a => a.Set("shape", [0L, 2L, -1L]).Set("axis", 0L).Set("num_axes", -1L));
        Assert.AreEqual(new Shape(1, 2, 2), reshaped.Shape);
        AssertValues([0, 1, 2, 3], reshaped);
    }

    [TestMethod]
    public void Permute_moves_channels_last()
    {
        // out[0, h, w, c] = in[0, c, h, w] = 6c + 3h + w.
        var y = Run("Permute", Iota(1, 2, 2, 3), a => a.Set("order", [0L, 2L, 3L, 1L]));
        Assert.AreEqual(new Shape(1, 2, 3, 2), y.Shape);
        AssertValues([0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11], y);
    }

    [TestMethod]
    public void Split_copies_the_input_to_every_output()
    {
        var outputs = RunMany("Split", T([1, 2], 7, -1), 2, null);
        AssertValues([7, -1], outputs[0]);
        AssertValues([7, -1], outputs[1]);
    }

    [TestMethod]
    public void Prior_box_emits_min_max_and_aspect_ratio_boxes_with_variances()
    {
        // 1x1 feature map on a 10x10 image: step 10, centre (5, 5). min 4 -> [3, 7]; max 9 ->
        // side sqrt(36) = 6 -> [2, 8]; ratio 2 -> w = 4*sqrt2 = 5.656854, h = 4/sqrt2 = 2.828427;
        // flipped 0.5 -> the transpose. Divided by 10.
        var y = Run("PriorBox", new Tensor(Shape.Nchw(1, 1, 1, 1)), a => a.Set("min_sizes", [4.0]).Set("max_sizes", [9.0])
            .Set("aspect_ratios", [2.0]).Set("flip", 1L).Set("clip", 0L).Set("variances", [0.1, 0.1, 0.2, 0.2]).Set("offset", 0.5),
            new Tensor(Shape.Nchw(1, 3, 10, 10)));
        Assert.AreEqual(new Shape(1, 2, 16), y.Shape);
        float w = 0.2828427f, h = 0.1414214f;
        AssertValues(
            [0.3f, 0.3f, 0.7f, 0.7f, 0.2f, 0.2f, 0.8f, 0.8f,
             0.5f - w, 0.5f - h, 0.5f + w, 0.5f + h, 0.5f - h, 0.5f - w, 0.5f + h, 0.5f + w,
             0.1f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f, 0.2f, 0.2f],
            y, 1e-6f);
    }

    [TestMethod]
    public void Prior_box_clips_to_the_image()
    {
        // Feature 1x2 on a 4x8 image: step 4 across; min 6 at centre (2, 2): [-1, -1, 5, 5] / (8, 4, 8, 4), clipped.
        var y = Run("PriorBox", new Tensor(Shape.Nchw(1, 1, 1, 2)), a => a.Set("min_sizes", [6.0]).Set("flip", 1L).Set("clip", 1L).Set("variances", [0.1]).Set("offset", 0.5),
            new Tensor(Shape.Nchw(1, 3, 4, 8)));
        // Second centre (6, 2): [3, -1, 9, 5] / (8, 4, 8, 4).
        AssertValues([0, 0, 0.625f, 1, 0.375f, 0, 1, 1, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f], y, 1e-6f);
    }

    [TestMethod]
    public void Detection_output_runs_per_class_nms_then_keep_top_k()
    {
        // Zero offsets: boxes are the priors A [0,0,.5,.5], B [.05,0,.55,.5] (IoU with A 0.225/0.275 = 0.82),
        // C [.5,.5,1,1]. Scores (bg, 1, 2): A (.1,.8,.1), B (.1,.7,.2), C (.5,.05,.45); threshold 0.1 is strict.
        // Class 1: A .8 keeps, B suppressed. Class 2: C .45, B .2 (no overlap). keep_top_k 2: A(1), C(2).
        var loc = new Tensor(new Shape(1, 12));
        var conf = T([1, 9], 0.1f, 0.8f, 0.1f, 0.1f, 0.7f, 0.2f, 0.5f, 0.05f, 0.45f);
        var priors = T([1, 2, 12], 0, 0, 0.5f, 0.5f, 0.05f, 0, 0.55f, 0.5f, 0.5f, 0.5f, 1, 1,
            0.1f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f, 0.2f, 0.2f, 0.1f, 0.1f, 0.2f, 0.2f);
        var y = Run("DetectionOutput", loc, Ssd(classes: 3, keepTopK: 2), conf, priors);
        Assert.AreEqual(new Shape(1, 1, 2, 7), y.Shape);
        AssertValues([0, 1, 0.8f, 0, 0, 0.5f, 0.5f, 0, 2, 0.45f, 0.5f, 0.5f, 1, 1], y, 1e-6f);
    }

    [TestMethod]
    public void Detection_output_decodes_center_size_offsets_and_fills_unused_rows_with_minus_one()
    {
        // Prior [.2,.2,.6,.6] (centre .4, size .4), variances (.1,.1,.2,.2), offsets (1, 0, 5 ln 2, 0):
        // cx = .1*1*.4 + .4 = .44, cy = .4, w = exp(.2 * 5 ln 2) * .4 = .8, h = .4 -> [.04, .2, .84, .6].
        var loc = T([1, 4], 1, 0, 5 * (float)Math.Log(2), 0);
        var conf = T([1, 2], 0.1f, 0.9f);
        var priors = T([1, 2, 4], 0.2f, 0.2f, 0.6f, 0.6f, 0.1f, 0.1f, 0.2f, 0.2f);
        var y = Run("DetectionOutput", loc, Ssd(classes: 2, keepTopK: 2), conf, priors);
        AssertValues([0, 1, 0.9f, 0.04f, 0.2f, 0.84f, 0.6f, -1, -1, -1, -1, -1, -1, -1], y, 1e-6f);
    }

    [TestMethod]
    public void Detection_output_with_variance_encoded_in_target_ignores_the_prior_variances()
    {
        // Same prior and variances as above, offsets already scaled by the network: (.1, 0, ln 2, 0):
        // cx = .1*.4 + .4 = .44, w = exp(ln 2) * .4 = .8 -> the same box [.04, .2, .84, .6].
        var loc = T([1, 4], 0.1f, 0, (float)Math.Log(2), 0);
        var conf = T([1, 2], 0.1f, 0.9f);
        var priors = T([1, 2, 4], 0.2f, 0.2f, 0.6f, 0.6f, 0.1f, 0.1f, 0.2f, 0.2f);
        var y = Run("DetectionOutput", loc, a => { Ssd(classes: 2, keepTopK: 1)(a); a.Set("variance_encoded_in_target", 1L); }, conf, priors);
        AssertValues([0, 1, 0.9f, 0.04f, 0.2f, 0.84f, 0.6f], y, 1e-6f);
    }

    private static Action<Attributes> Ssd(int classes, int keepTopK) => a => a
        .Set("num_classes", (long)classes).Set("share_location", 1L).Set("background_label_id", 0L).Set("keep_top_k", (long)keepTopK)
        .Set("nms_threshold", 0.45).Set("top_k", 400L).Set("confidence_threshold", 0.1).Set("code_type", "CenterSize");

    private static Tensor[] RunMany(string opType, Tensor x, int outputs, Action<Attributes>? attributes)
    {
        var graph = new Graph();
        graph.Inputs["x"] = x.Shape;
        var names = Enumerable.Range(0, outputs).Select(i => $"y{i}").ToList();
        var node = new Node("node", opType, ["x"], names, new LayerOrigin(0, opType, "0", SourceLocation.None));
        attributes?.Invoke(node.Attributes);
        graph.Nodes.Add(node);
        graph.Outputs.AddRange(names);
        var results = new ReferenceExecutor(graph, new ExecutionOptions()).Run(new Dictionary<string, Tensor> { ["x"] = x });
        return [.. names.Select(n => results[n])];
    }
}
