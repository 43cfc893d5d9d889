using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Formats.Onnx.Export;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>A [yolo] head's output decoded into boxes by hand, and its box agreement measured on a runtime that differs by rounding.</summary>
[TestClass]
public sealed class YoloBoxesTests
{
    [TestMethod]
    public void A_cell_decodes_to_the_box_worked_by_hand()
    {
        // 1 anchor of 16 x 8 pixels, 2 classes, a 1 x 2 grid, a 64 x 32 network input. Planes per
        // entry (x, y, w, h, objectness, class 0, class 1), two cells each.
        float[] output =
        [
            0.5f, 0.5f, // x
            0.5f, 0.25f, // y
            0, MathF.Log(2), // w
            0, 0, // h
            0.1f, 0.8f, // objectness
            0.3f, 0.5f, // class 0
            0.2f, 0.9f, // class 1
        ];
        var head = new DarknetYoloAttributes(1, 2, NewCoords: false, ScaleXY: 1, AnchorSizes: [16, 8]);
        var boxes = YoloBoxes.Decode(output, batch: 1, height: 1, width: 2, head, networkWidth: 64, networkHeight: 32);

        // Cell 0: centre (0.5/2, 0.5), size (16/64, 8/32), class 0 at 0.1 * 0.3.
        // Cell 1: centre ((1 + 0.5)/2, 0.25), size (2 * 16/64, 8/32), class 1 at 0.8 * 0.9.
        Assert.HasCount(2, boxes);
        AssertBox(new DetectedBox(0, 0, 0.03f, 0.125f, 0.375f, 0.375f, 0.625f), boxes[0]);
        AssertBox(new DetectedBox(0, 1, 0.72f, 0.5f, 0.125f, 1.0f, 0.375f), boxes[1]);
    }

    [TestMethod]
    public void A_yolo_head_of_a_lossy_runtime_is_decoded_on_both_sides_and_its_top_boxes_compared()
    {
        using var temp = new TempDirectory();
        var cfg = "[net]\nbatch=1\nwidth=64\nheight=64\nchannels=3\n\n"
            + "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n\n"
            + "[convolutional]\nfilters=21\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
            + "[yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=2\nnum=3\n\n";
        var model = OnnxRuntimeComparison.Darknet(temp.Path, cfg);
        var head = model.Graph.Nodes.Single(n => n.OpType == "DarknetYolo");
        CollectionAssert.AreEqual(new double[] { 10, 14, 23, 27, 37, 58 }, head.AttributesAs<DarknetYoloAttributes>().AnchorSizes);

        using var perturbed = new ReferenceRuntime(new NeuralBuild.Engine.Ir.Model(model.Format, model.DefinitionPath, null, Verifier.WithRoundedWeights(model.Graph)), "perturbed");
        var output = head.Outputs[0];
        var accuracy = Verifier.MeasureRuntime(model, perturbed, model.Graph.Inputs.Keys.Single(), [(output, output)], [], maxOutputError: null);

        var agreement = accuracy.Detections.Single();
        Assert.AreEqual(BoxAgreement.TopBoxes, agreement.Boxes, "an 8 x 8 grid of 3 anchors has more than 20 boxes");
        Assert.AreEqual(agreement.Boxes, agreement.Matched, "rounding moves no box of the top 20");
    }

    [TestMethod]
    public void A_region_cell_decodes_to_the_box_worked_by_hand()
    {
        // 1 anchor of 2 x 0.5 grid cells, 2 classes, a 1 x 2 grid. Cell 1: centre ((1 + 0.5)/2,
        // 0.25), size (e^0 * 2/2, e^ln2 * 0.5/1) = (1, 1), class 0 at 0.8 * 0.6.
        float[] output =
        [
            0, 0.5f, // x
            0, 0.25f, // y
            0, 0, // w
            0, MathF.Log(2), // h
            0, 0.8f, // objectness
            0, 0.6f, // class 0
            0, 0.4f, // class 1
        ];
        var head = new DarknetRegionAttributes(1, 2, 4, Softmax: true, BoxesLayout: false, ClassGroups: [], MissingClassTree: null, AnchorSizes: [2, 0.5]);
        var box = YoloBoxes.DecodeRegion(output, batch: 1, height: 1, width: 2, head)[1];
        AssertBox(new DetectedBox(0, 0, 0.48f, 0.25f, -0.25f, 1.25f, 0.75f), box);
    }

    [TestMethod]
    public void An_alexeyab_region_record_decodes_with_the_logistic_of_its_raw_centre()
    {
        // AlexeyAB's layout: one record per cell and anchor, cell-major (x, y, w, h, objectness,
        // classes side by side), x and y raw. 2 anchors of (2 x 0.5) and (1 x 1) cells, 1 class, a
        // 1 x 2 grid: records (cell 0, anchor 0), (cell 0, anchor 1), (cell 1, anchor 0), (cell 1, anchor 1).
        var ln3 = MathF.Log(3);
        float[] output =
        [
            0, 0, 0, 0, 0.1f, 1,
            0, 0, 0, 0, 0.2f, 1,
            0, 0, 0, 0, 0.3f, 1,
            -ln3, ln3, MathF.Log(2), 0, 0.9f, 0.5f, // cell 1, anchor 1: logistic(±ln 3) = 1/4, 3/4
        ];
        var head = new DarknetRegionAttributes(2, 1, 4, Softmax: true, BoxesLayout: true, ClassGroups: [], MissingClassTree: null, AnchorSizes: [2, 0.5, 1, 1]);
        var boxes = YoloBoxes.DecodeRegion(output, batch: 1, height: 1, width: 2, head);

        // Boxes come anchor by anchor: [1] is (anchor 0, cell 1), [3] is (anchor 1, cell 1): centre
        // ((1 + 1/4)/2, 3/4), size (e^ln2 * 1/2, e^0 * 1/1) = (1, 1), score 0.9 * 0.5.
        Assert.HasCount(4, boxes);
        Assert.AreEqual(0.3f, boxes[1].Score, 1e-6f);
        AssertBox(new DetectedBox(0, 0, 0.45f, 0.125f, 0.25f, 1.125f, 1.25f), boxes[3]);
    }

    [TestMethod]
    public void A_gaussian_yolo_cell_decodes_with_its_score_discounted_by_the_mean_uncertainty()
    {
        // [Gaussian_yolo]: planes x, σx, y, σy, w, σw, h, σh, objectness, classes. 1 anchor of 16 x 8
        // pixels, 2 classes, a 1 x 1 grid, a 64 x 32 input.
        float[] output = [0.5f, 0.1f, 0.25f, 0.2f, MathF.Log(2), 0.3f, 0, 0.4f, 0.8f, 0.3f, 0.9f];
        var head = new DarknetYoloAttributes(1, 2, NewCoords: false, ScaleXY: 1, AnchorSizes: [16, 8]);
        var box = YoloBoxes.DecodeGaussian(output, batch: 1, height: 1, width: 1, head, networkWidth: 64, networkHeight: 32).Single();

        // Centre (0.5, 0.25), size (2 * 16/64, 8/32) = (0.5, 0.25); class 1 at
        // 0.8 * 0.9 * (1 - (0.1 + 0.2 + 0.3 + 0.4) / 4) = 0.54.
        AssertBox(new DetectedBox(0, 1, 0.54f, 0.25f, 0.125f, 0.75f, 0.375f), box);
    }

    [TestMethod]
    [DataRow("[region]\nanchors=1.08,1.19, 3.42,4.41, 6.63,11.38, 9.42,5.11, 16.62,10.52\nclasses=2\ncoords=4\nnum=5\nsoftmax=1\n\n", 35, "DarknetRegion", NeuralBuild.Engine.Formats.Darknet.DarknetDialect.Pjreddie)]
    [DataRow("[region]\nanchors=1.08,1.19, 3.42,4.41, 6.63,11.38, 9.42,5.11, 16.62,10.52\nclasses=2\ncoords=4\nnum=5\nsoftmax=1\n\n", 35, "DarknetRegion", NeuralBuild.Engine.Formats.Darknet.DarknetDialect.AlexeyAB)]
    [DataRow("[Gaussian_yolo]\nmask=0,1,2\nanchors=10,14, 23,27, 37,58\nclasses=2\nnum=3\n\n", 33, "DarknetGaussianYolo", NeuralBuild.Engine.Formats.Darknet.DarknetDialect.AlexeyAB)]
    public void A_region_or_gaussian_head_of_a_lossy_runtime_is_decoded_on_both_sides_and_its_top_boxes_compared(string headSection, int filters, string op, NeuralBuild.Engine.Formats.Darknet.DarknetDialect dialect)
    {
        using var temp = new TempDirectory();
        var cfg = "[net]\nbatch=1\nwidth=64\nheight=64\nchannels=3\n\n"
            + "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=2\npad=1\nactivation=leaky\n\n"
            + $"[convolutional]\nfilters={filters}\nsize=1\nstride=1\npad=1\nactivation=linear\n\n"
            + headSection;
        var model = OnnxRuntimeComparison.Darknet(temp.Path, cfg, dialect: dialect);
        var head = model.Graph.Nodes.Single(n => n.OpType == op);

        using var perturbed = new ReferenceRuntime(new NeuralBuild.Engine.Ir.Model(model.Format, model.DefinitionPath, null, Verifier.WithRoundedWeights(model.Graph)), "perturbed");
        var output = head.Outputs[0];
        var accuracy = Verifier.MeasureRuntime(model, perturbed, model.Graph.Inputs.Keys.Single(), [(output, output)], [], maxOutputError: null);

        var agreement = accuracy.Detections.Single();
        Assert.AreEqual(BoxAgreement.TopBoxes, agreement.Boxes);
        Assert.AreEqual(agreement.Boxes, agreement.Matched);
    }

    private static void AssertBox(DetectedBox expected, DetectedBox actual)
    {
        Assert.AreEqual(expected.Label, actual.Label);
        Assert.AreEqual(expected.Score, actual.Score, 1e-6f);
        Assert.AreEqual(expected.X0, actual.X0, 1e-6f);
        Assert.AreEqual(expected.Y0, actual.Y0, 1e-6f);
        Assert.AreEqual(expected.X1, actual.X1, 1e-6f);
        Assert.AreEqual(expected.Y1, actual.Y1, 1e-6f);
    }
}
