using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Formats.Onnx.Export;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Formats.Onnx.Export;

/// <summary>
/// Small hand-made Caffe models, one per lowering Caffe needs (ceil pooling with its last-window
/// rule, average pooling's divisor at padded borders, weighted and N-input Eltwise, SSD's layers),
/// exported, checked by onnx.checker and run in ONNX Runtime against the reference executor.
/// </summary>
[TestClass]
public sealed class OnnxCaffeExportTests
{
    internal static string Net(int channels, int height, int width, string layers) =>
        $"name: \"t\"\ninput: \"data\"\ninput_shape {{ dim: 1 dim: {channels} dim: {height} dim: {width} }}\n" + layers;

    internal static string Layer(string name, string type, string bottoms, string parameters = "", string? top = null) =>
        $"layer {{ name: \"{name}\" type: \"{type}\" {string.Join(' ', bottoms.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(b => $"bottom: \"{b.Trim()}\""))} top: \"{top ?? name}\" {parameters} }}\n";

    private static string Conv(string name, string bottom, int outputs, int kernel = 3, int pad = 1) =>
        Layer(name, "Convolution", bottom, $"convolution_param {{ num_output: {outputs} kernel_size: {kernel} pad: {pad} }}");

    private static OnnxExportResult Check(string prototxt, bool fold = true)
    {
        using var temp = new TempDirectory();
        var model = Read(temp, prototxt);
        if (fold)
        {
            OnnxRuntimeComparison.Folded(model);
        }

        return OnnxRuntimeComparison.ExportAndCompare(model, temp.Path);
    }

    private static Model Read(TempDirectory temp, string prototxt)
    {
        var path = temp.WriteText("net.prototxt", prototxt);
        var weights = temp.Combine("net.caffemodel");
        CaffeSyntheticWeights.Write(ModelFormats.Read(path), weights, new SyntheticWeightsOptions { Seed = 5 });
        return ModelFormats.Read(path, new ModelReadOptions { WeightsPath = weights });
    }

    [TestMethod]
    [DataRow("MAX", 5, 2, 2, 1)] // ceil gives 4, Caffe's rule clips the window that would start in the padding: 3
    [DataRow("MAX", 6, 3, 2, 1)]
    [DataRow("MAX", 7, 3, 2, 0)]
    [DataRow("AVE", 5, 2, 2, 1)]
    [DataRow("AVE", 6, 3, 2, 1)] // the last window runs past the padded input: Caffe's divisor is clipped
    [DataRow("AVE", 7, 3, 2, 0)]
    [DataRow("AVE", 8, 3, 1, 1)]
    public void Ceil_pooling_matches_caffe(string pool, int size, int kernel, int stride, int pad)
    {
        var pooling = Layer("pool", "Pooling", "conv", $"pooling_param {{ pool: {pool} kernel_size: {kernel} stride: {stride} pad: {pad} }}");
        Check(Net(3, size, size, Conv("conv", "data", 4) + pooling));
    }

    [TestMethod]
    public void Global_average_pooling_matches()
    {
        Check(Net(3, 7, 7, Conv("conv", "data", 4) + Layer("pool", "Pooling", "conv", "pooling_param { pool: AVE global_pooling: true }")));
    }

    [TestMethod]
    [DataRow("operation: SUM coeff: 1 coeff: -0.5 coeff: 2")]
    [DataRow("operation: SUM")]
    [DataRow("operation: PROD")]
    [DataRow("operation: MAX")]
    public void Eltwise_of_three_inputs_matches(string parameters)
    {
        var layers = Conv("a", "data", 4) + Conv("b", "data", 4) + Conv("c", "data", 4) + Layer("sum", "Eltwise", "a,b,c", $"eltwise_param {{ {parameters} }}");
        Check(Net(3, 5, 5, layers));
    }

    [TestMethod]
    public void Scale_bias_power_and_lrn_match()
    {
        var layers = Conv("conv", "data", 6)
            + Layer("pool", "Pooling", "conv", "pooling_param { pool: MAX kernel_size: 2 stride: 1 }")
            + Layer("scale", "Scale", "pool", "scale_param { bias_term: true }")
            + Layer("power", "Power", "scale", "power_param { power: 2 scale: 0.5 shift: 3 }")
            + Layer("across", "LRN", "power", "lrn_param { local_size: 3 alpha: 0.1 beta: 0.75 k: 2 }")
            + Layer("within", "LRN", "across", "lrn_param { local_size: 3 alpha: 0.2 beta: 0.5 norm_region: WITHIN_CHANNEL }");
        Check(Net(3, 6, 6, layers), fold: false);
    }

    [TestMethod]
    public void Concat_slice_deconvolution_and_softmax_match()
    {
        var layers = Conv("a", "data", 4) + Conv("b", "data", 6)
            + Layer("cat", "Concat", "a,b", "concat_param { axis: 1 }")
            + "layer { name: \"slice\" type: \"Slice\" bottom: \"cat\" top: \"s1\" top: \"s2\" top: \"s3\" slice_param { axis: 1 slice_point: 3 slice_point: 7 } }\n"
            + Layer("up", "Deconvolution", "s2", "convolution_param { num_output: 2 kernel_size: 4 stride: 2 pad: 1 }")
            + Layer("prob", "Softmax", "up", "softmax_param { axis: 1 }")
            + Layer("out", "Eltwise", "s1,s3", "eltwise_param { operation: SUM }");
        Check(Net(3, 5, 5, layers));
    }

    [TestMethod]
    public void Ssd_head_exports_up_to_detection_output_with_a_warning()
    {
        var layers = Conv("conv", "data", 8)
            + Layer("norm", "Normalize", "conv", "norm_param { across_spatial: false channel_shared: false scale_filler { type: \"constant\" value: 20 } }")
            + Conv("loc", "norm", 16) + Layer("loc_perm", "Permute", "loc", "permute_param { order: 0 order: 2 order: 3 order: 1 }")
            + Layer("loc_flat", "Flatten", "loc_perm", "flatten_param { axis: 1 }")
            + Conv("conf", "norm", 8) + Layer("conf_perm", "Permute", "conf", "permute_param { order: 0 order: 2 order: 3 order: 1 }")
            + Layer("conf_flat", "Flatten", "conf_perm", "flatten_param { axis: 1 }")
            + Layer("conf_reshape", "Reshape", "conf_flat", "reshape_param { shape { dim: 0 dim: -1 dim: 2 } }")
            + Layer("conf_softmax", "Softmax", "conf_reshape", "softmax_param { axis: 2 }")
            + Layer("conf_out", "Flatten", "conf_softmax", "flatten_param { axis: 1 }")
            + Layer("prior", "PriorBox", "norm,data", "prior_box_param { min_size: 10 max_size: 20 aspect_ratio: 2 flip: true clip: false variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 offset: 0.5 }")
            + Layer("detection_out", "DetectionOutput", "loc_flat,conf_out,prior",
                "detection_output_param { num_classes: 2 share_location: true background_label_id: 0 nms_param { nms_threshold: 0.45 top_k: 20 } code_type: CENTER_SIZE keep_top_k: 10 confidence_threshold: 0.01 }");
        var prototxt = Net(3, 6, 6, layers);
        var result = Check(prototxt);
        CollectionAssert.AreEqual(new[] { "loc_flat", "conf_out", "prior" }, result.Outputs.Select(o => o.IrValue).ToArray());
        var warning = result.Warnings.Single();
        Assert.AreEqual(DiagnosticCodes.ExportDetectionOutputDropped, warning.Descriptor);
        Assert.AreEqual(prototxt.Split('\n').ToList().FindIndex(l => l.Contains("\"detection_out\"", StringComparison.Ordinal)) + 1, warning.Location.Line, "the warning points at the DetectionOutput layer");
    }
}
