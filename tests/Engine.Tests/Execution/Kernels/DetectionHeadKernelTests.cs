using static NeuralBuild.Engine.Tests.Execution.SingleNode;

namespace NeuralBuild.Engine.Tests.Execution.Kernels;

[TestClass]
public sealed class DetectionHeadKernelTests
{
    private static readonly float Ln3 = (float)Math.Log(3);

    [TestMethod]
    public void Yolo_applies_the_logistic_to_all_but_w_and_h()
    {
        // One anchor, one class, a 1x1 map: entries x, y, w, h, objectness, class = ln 3 each;
        // logistic(ln 3) = 0.75.
        var y = Run("DarknetYolo", T([1, 6, 1, 1], Ln3, Ln3, Ln3, Ln3, Ln3, Ln3), a => a.Set("anchors", 1L).Set("classes", 1L));
        AssertValues([0.75f, 0.75f, Ln3, Ln3, 0.75f, 0.75f], y);
    }

    [TestMethod]
    public void Yolo_scale_x_y_stretches_the_centre_offsets()
    {
        // scale_x_y = 2: 0.75 * 2 - 0.5 = 1 on x and y only.
        var y = Run("DarknetYolo", T([1, 6, 1, 1], Ln3, Ln3, Ln3, Ln3, Ln3, Ln3), a => a.Set("anchors", 1L).Set("classes", 1L).Set("scale_x_y", 2.0));
        AssertValues([1, 1, Ln3, Ln3, 0.75f, 0.75f], y);

        // new_coords=1: no logistic anywhere; the scale still applies: ln3 * 2 - 0.5.
        var raw = Run("DarknetYolo", T([1, 6, 1, 1], Ln3, Ln3, Ln3, Ln3, Ln3, Ln3), a => a.Set("anchors", 1L).Set("classes", 1L).Set("scale_x_y", 2.0).Set("new_coords", 1L));
        AssertValues([(2 * Ln3) - 0.5f, (2 * Ln3) - 0.5f, Ln3, Ln3, Ln3, Ln3], raw);
    }

    [TestMethod]
    public void Yolo_entries_are_channel_planes_per_anchor()
    {
        // Two anchors, zero classes, a 1x2 map: the logistic hits channels 0, 1, 4 and 5, 6, 9 (both pixels).
        var x = T([1, 10, 1, 2], new float[20]);
        var y = Run("DarknetYolo", x, a => a.Set("anchors", 2L).Set("classes", 0L));
        float[] expected = [0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0.5f, 0.5f];
        AssertValues(expected, y);
    }

    [TestMethod]
    public void Gaussian_yolo_leaves_only_w_and_h_raw()
    {
        // Entries x, σx, y, σy, w, σw, h, σh, objectness: zeros -> 0.5 except w (4) and h (6).
        var y = Run("DarknetGaussianYolo", T([1, 9, 1, 1], new float[9]), a => a.Set("anchors", 1L).Set("classes", 0L));
        AssertValues([0.5f, 0.5f, 0.5f, 0.5f, 0, 0.5f, 0, 0.5f, 0.5f], y);
    }

    [TestMethod]
    public void Region_softmax_runs_across_the_class_channels_of_each_cell()
    {
        // One anchor, coords 4, two classes, a 1x1 map: x, y, objectness get the logistic; w, h stay;
        // classes [0, ln 3] become [1/4, 3/4].
        var y = Run("DarknetRegion", T([1, 7, 1, 1], Ln3, Ln3, 1, 2, Ln3, 0, Ln3), a => a.Set("num", 1L).Set("coords", 4L).Set("classes", 2L).Set("softmax", 1L));
        AssertValues([0.75f, 0.75f, 1, 2, 0.75f, 0.25f, 0.75f], y);

        var logistic = Run("DarknetRegion", T([1, 7, 1, 1], Ln3, Ln3, 1, 2, Ln3, 0, Ln3), a => a.Set("num", 1L).Set("coords", 4L).Set("classes", 2L).Set("softmax", 0L));
        AssertValues([0.75f, 0.75f, 1, 2, 0.75f, 0.5f, 0.75f], logistic);
    }

    [TestMethod]
    public void Detection_softmax_covers_the_class_block_of_each_cell_only()
    {
        // side 1, num 1, coords 1, classes 2: [class0, class1, confidence, coord] = [0, ln 3, 5, 6].
        var y = Run("DarknetDetection", T([1, 4], 0, Ln3, 5, 6), a => a.Set("side", 1L).Set("num", 1L).Set("coords", 1L).Set("classes", 2L).Set("softmax", 1L));
        AssertValues([0.25f, 0.75f, 5, 6], y);
    }

    [TestMethod]
    public void AlexeyAB_region_flattens_to_box_records_and_activates_only_objectness_and_classes()
    {
        // One anchor, coords 4, two classes, a 1x2 map: channel c of cell i moves to i*7 + c.
        // Cell 0 channels: x=1, y=2, w=3, h=4, obj=ln 3, classes [0, ln 3]; cell 1: x=5, y=6, w=7, h=8,
        // obj=0, classes [0, 0]. Then logistic on entry 4 and a softmax on entries 5..6.
        var x = T([1, 7, 1, 2], 1, 5, 2, 6, 3, 7, 4, 8, Ln3, 0, 0, 0, Ln3, 0);
        var y = Run("DarknetRegion", x, a => a.Set("num", 1L).Set("coords", 4L).Set("classes", 2L).Set("softmax", 1L).Set("layout", "boxes"));
        AssertValues([1, 2, 3, 4, 0.75f, 0.25f, 0.75f, 5, 6, 7, 8, 0.5f, 0.5f, 0.5f], y);
    }
}
