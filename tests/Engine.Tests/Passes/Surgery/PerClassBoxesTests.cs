using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ops;
using NeuralBuild.Engine.Passes.Surgery;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Passes.Surgery;

/// <summary>
/// An SSD head without <c>share_location</c>: its box convolution holds, per prior, 4 rows per class,
/// so keeping classes cuts those rows as well as the scores'. The kept rows are checked against the
/// original's, located by hand in the test.
/// </summary>
[TestClass]
public sealed class PerClassBoxesTests
{
    /// <summary>data 1x3x16x16 → conv 8 → loc conv (3 priors × 4 classes × 4 = 48) and conf conv (3 × 4 = 12) → Permute/Flatten → DetectionOutput (4 classes, boxes per class).</summary>
    private const string Prototxt = """
        name: "ssd_per_class_boxes"
        input: "data"
        input_shape { dim: 1 dim: 3 dim: 16 dim: 16 }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 3 pad: 1 } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "loc" type: "Convolution" bottom: "conv" top: "loc" convolution_param { num_output: 48 kernel_size: 1 } }
        layer { name: "loc_perm" type: "Permute" bottom: "loc" top: "loc_perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
        layer { name: "loc_flat" type: "Flatten" bottom: "loc_perm" top: "loc_flat" flatten_param { axis: 1 } }
        layer { name: "conf" type: "Convolution" bottom: "conv" top: "conf" convolution_param { num_output: 12 kernel_size: 1 } }
        layer { name: "conf_perm" type: "Permute" bottom: "conf" top: "conf_perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
        layer { name: "conf_flat" type: "Flatten" bottom: "conf_perm" top: "conf_flat" flatten_param { axis: 1 } }
        layer { name: "prior" type: "PriorBox" bottom: "conv" bottom: "data" top: "prior" prior_box_param { min_size: 6.0 aspect_ratio: 2.0 flip: true clip: false variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 offset: 0.5 } }
        layer { name: "detection_out" type: "DetectionOutput" bottom: "loc_flat" bottom: "conf_flat" bottom: "prior" top: "detection_out"
          detection_output_param { num_classes: 4 share_location: false background_label_id: 0 nms_param { nms_threshold: 0.45 top_k: 20 } code_type: CENTER_SIZE keep_top_k: 10 confidence_threshold: 0.01 } }
        """;

    [TestMethod]
    public void Without_share_location_the_box_rows_of_the_other_classes_are_cut_too()
    {
        using var fixture = new DarknetFixture();
        var prototxt = Path.Combine(fixture.Folder, "ssd.prototxt");
        File.WriteAllText(prototxt, Prototxt);
        CaffeSyntheticWeights.Write(ModelFormats.Read(prototxt), Path.ChangeExtension(prototxt, ".caffemodel"), new SyntheticWeightsOptions { Seed = 4 });

        var result = SurgeryModels.Edit(fixture, prototxt, new ModelSurgery { KeepClasses = [0, 2] });

        Assert.IsTrue(result.SurgeryVerification!.Passed, result.SurgeryVerification.Summary());
        var text = File.ReadAllText(result.OptimizedDefinitionPath);
        StringAssert.Contains(text, "num_output: 24", "3 priors x 2 classes x 4");
        StringAssert.Contains(text, "num_output: 6", "3 priors x 2 classes");
        var (before, after) = SurgeryModels.ReadBoth(prototxt, result);
        Assert.AreEqual(2L, after.Graph.Nodes.Single(n => n.OpType == "DetectionOutput").AttributesAs<DetectionOutputAttributes>().NumClasses);

        // loc_flat per position: 3 priors, each 4 classes of 4 coordinates; kept: classes 0 and 2.
        var input = SurgeryModels.SeededInput(before.Graph.Inputs.Values.Single(), 9);
        var expected = SurgeryModels.Run(before, input, "loc_flat");
        var actual = SurgeryModels.Run(after, input, "loc_flat");
        var priors = expected.Length / 16;
        Assert.HasCount(priors * 8, actual);
        int[] kept = [0, 2];
        for (var p = 0; p < priors; p++)
        {
            for (var k = 0; k < kept.Length; k++)
            {
                for (var c = 0; c < 4; c++)
                {
                    Assert.AreEqual(expected[(p * 16) + (kept[k] * 4) + c], actual[(p * 8) + (k * 4) + c], $"prior {p}, class {kept[k]}, coordinate {c}");
                }
            }
        }

        // The detections still run: one row of 7 values per detection.
        Assert.AreEqual(0, SurgeryModels.Run(after, input, "detection_out").Length % 7);
    }
}
