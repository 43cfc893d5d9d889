using NeuralBuild.Engine.Evaluation;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Formats.Onnx.Export;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Evaluation;

/// <summary>Box agreement: IoU and matching worked out by hand, and an SSD head measured on a runtime that lacks it (as the ONNX export does).</summary>
[TestClass]
public sealed class BoxAgreementTests
{
    private static DetectedBox Box(int label, float score, float x0, float y0, float x1, float y1, int image = 0) => new(image, label, score, x0, y0, x1, y1);

    [TestMethod]
    public void Iou_is_intersection_over_union()
    {
        // [0, 2] x [0, 2] and [1, 3] x [0, 2]: intersection 1 x 2 = 2, union 4 + 4 - 2 = 6.
        Assert.AreEqual(2.0 / 6, DetectedBox.Iou(Box(1, 1, 0, 0, 2, 2), Box(1, 1, 1, 0, 3, 2)), 1e-12);
        // Inside: [0, 4]^2 holds [1, 3]^2: 4 / 16.
        Assert.AreEqual(0.25, DetectedBox.Iou(Box(1, 1, 0, 0, 4, 4), Box(1, 1, 1, 1, 3, 3)), 1e-12);
        Assert.AreEqual(0, DetectedBox.Iou(Box(1, 1, 0, 0, 1, 1), Box(1, 1, 1, 0, 2, 1)), "touching boxes do not overlap");
    }

    [TestMethod]
    public void A_box_agrees_with_one_of_the_same_class_at_IoU_of_a_half_each_used_once()
    {
        DetectedBox[] original =
        [
            Box(1, 0.9f, 0, 0, 2, 2),  // the other's [0, 0.5]..: IoU (2 x 1.5) / (4 + 4 - 3) = 0.6: found
            Box(1, 0.8f, 0, 0, 2, 2),  // the same box again: the only match is used: not found
            Box(2, 0.7f, 5, 5, 6, 6),  // the other has it as class 3: not found
            Box(2, 0.6f, 10, 0, 12, 2), // shifted by 2/3 of its width: IoU (2/3 x 2) / (4 + 4 - 4/3) = 0.2: not found
            Box(4, 0.5f, 20, 20, 22, 22, image: 1), // image 1: found there, not in image 0
        ];
        DetectedBox[] other =
        [
            Box(1, 0.9f, 0, 0.5f, 2, 2.5f),
            Box(3, 0.7f, 5, 5, 6, 6),
            Box(2, 0.6f, 10 + (4f / 3), 0, 12 + (4f / 3), 2),
            Box(4, 0.4f, 20, 20, 22, 22, image: 0),
            Box(4, 0.4f, 20, 20, 22, 22, image: 1),
        ];

        var agreement = BoxAgreement.Measure("s", original, other);

        Assert.AreEqual(5, agreement.Boxes);
        Assert.AreEqual(2, agreement.Matched);
        Assert.AreEqual(0.4, agreement.Agreement);
        StringAssert.Contains(agreement.ToString(), "box agreement 40% (2 of the original's 5 top boxes");
    }

    [TestMethod]
    public void Only_the_top_boxes_by_score_count_and_padding_rows_are_no_boxes()
    {
        // 25 boxes of scores 0.01 .. 0.25: the best 20 count; the other model finds the 5 worst and the best one.
        var original = Enumerable.Range(1, 25).Select(i => Box(1, i / 100f, i * 10, 0, (i * 10) + 5, 5)).ToList();
        var other = original.Where(b => b.Score < 0.055f || b.Score > 0.245f).ToList();
        var agreement = BoxAgreement.Measure("s", original, other);
        Assert.AreEqual(20, agreement.Boxes);
        Assert.AreEqual(1, agreement.Matched);

        // DetectionOutput rows (image, label, score, corners), the unused rows -1.
        float[] rows = [0, 3, 0.9f, 0.1f, 0.2f, 0.3f, 0.4f, -1, -1, -1, -1, -1, -1, -1];
        var boxes = DetectedBox.FromDetectionRows(rows);
        Assert.AreEqual(Box(3, 0.9f, 0.1f, 0.2f, 0.3f, 0.4f), boxes.Single());
        Assert.IsNull(BoxAgreement.Measure("s", [], boxes).Agreement, "no box in the original: nothing to agree on");
    }

    /// <summary>A small SSD: one feature conv, loc and conf heads, prior boxes and DetectionOutput.</summary>
    private static string SsdPrototxt()
    {
        static string Layer(string name, string type, string bottoms, string parameters = "") => OnnxCaffeExportTests.Layer(name, type, bottoms, parameters);
        return OnnxCaffeExportTests.Net(3, 6, 6, Layer("conv", "Convolution", "data", "convolution_param { num_output: 8 kernel_size: 3 pad: 1 }")
            + Layer("loc", "Convolution", "conv", "convolution_param { num_output: 16 kernel_size: 3 pad: 1 }")
            + Layer("loc_perm", "Permute", "loc", "permute_param { order: 0 order: 2 order: 3 order: 1 }")
            + Layer("loc_flat", "Flatten", "loc_perm", "flatten_param { axis: 1 }")
            + Layer("conf", "Convolution", "conv", "convolution_param { num_output: 8 kernel_size: 3 pad: 1 }")
            + Layer("conf_perm", "Permute", "conf", "permute_param { order: 0 order: 2 order: 3 order: 1 }")
            + Layer("conf_flat", "Flatten", "conf_perm", "flatten_param { axis: 1 }")
            + Layer("prior", "PriorBox", "conv,data", "prior_box_param { min_size: 2 max_size: 4 aspect_ratio: 2 flip: true clip: false variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 offset: 0.5 }")
            + Layer("detection_out", "DetectionOutput", "loc_flat,conf_flat,prior",
                "detection_output_param { num_classes: 2 share_location: true background_label_id: 0 nms_param { nms_threshold: 0.45 top_k: 50 } code_type: CENTER_SIZE keep_top_k: 30 confidence_threshold: -1000 }"));
    }

    [TestMethod]
    public void An_int8_export_of_an_ssd_is_read_back_with_its_constant_priors_and_its_boxes_compared()
    {
        // The export computes the prior boxes once and stores them: in the read-back ONNX model they
        // are a constant graph output, which the reference executor must hand out like any value.
        using var temp = new TempDirectory();
        var path = temp.WriteText("ssd.prototxt", SsdPrototxt());
        CaffeSyntheticWeights.Write(ModelFormats.Read(path), temp.Combine("ssd.caffemodel"), new SyntheticWeightsOptions { Seed = 3 });

        var result = ModelConverter.Convert(new ConvertRequest
        {
            DefinitionPath = path,
            WeightsPath = temp.Combine("ssd.caffemodel"),
            To = "onnx",
            ExportOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["quantize"] = "int8" },
            OutputDirectory = temp.Combine("out"),
        });

        Assert.IsTrue(result.Export.Lossy);
        StringAssert.Contains(result.ExportAccuracy!.Summary(), "box agreement");
    }

    [TestMethod]
    public void An_ssd_head_left_out_of_an_export_is_run_on_both_sides_and_its_top_boxes_compared()
    {
        using var temp = new TempDirectory();
        var prototxt = SsdPrototxt();
        var path = temp.WriteText("ssd.prototxt", prototxt);
        CaffeSyntheticWeights.Write(ModelFormats.Read(path), temp.Combine("ssd.caffemodel"), new SyntheticWeightsOptions { Seed = 3 });

        var model = ModelFormats.Read(path, new ModelReadOptions { WeightsPath = temp.Combine("ssd.caffemodel") });
        // The "export": the same model with every conv weight moved by float32 rounding, run without its
        // DetectionOutput (as the ONNX export is): its outputs are the head's inputs.
        using var perturbed = new ReferenceRuntime(new Model(model.Format, path, null, Verifier.WithRoundedWeights(model.Graph)), "perturbed");
        (string, string)[] outputs = [("loc_flat", "loc_flat"), ("conf_flat", "conf_flat"), ("prior", "prior")];

        var accuracy = Verifier.MeasureRuntime(model, perturbed, "data", outputs, [], maxOutputError: null);

        // Raw conf scores (no softmax) above -1000: all 144 priors are candidates; NMS keeps boxes of
        // IoU <= 0.45, keep_top_k 30 of them; the original's best 20 are compared, and rounding moves none.
        var head = accuracy.Detections.Single();
        Assert.AreEqual("perturbed detections 'detection_out': box agreement 100% (20 of the original's 20 top boxes found again: same class, IoU >= 0.5)", head.ToString());
        StringAssert.Contains(accuracy.Summary(), "box agreement 100%");
    }
}
