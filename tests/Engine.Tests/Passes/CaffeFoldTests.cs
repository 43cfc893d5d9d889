using Google.Protobuf;
using NeuralBuild.Engine.Formats.Caffe.Proto;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Passes;
using NeuralBuild.Engine.Tests.Formats.Caffe;
using static NeuralBuild.Engine.Tests.Formats.Caffe.CaffeFixture;

namespace NeuralBuild.Engine.Tests.Passes;

/// <summary>
/// Caffe BatchNorm (+ Scale) folds, values worked out by hand. The common case: 1x1 conv, one input
/// channel, weights (2, -1), no bias; BatchNorm eps 1 with stored sums mean (4, 0), var (6, 16) and
/// factor 2, so mean (2, 0), var (3, 8), D = sqrt(var + 1) = (2, 3); Scale gamma (4, 3), beta (1, -2).
/// a = gamma / D = (2, 1); W' = (4, -1); b' = a * (0 - mean) + beta = (-3, -2).
/// </summary>
[TestClass]
public sealed class CaffeFoldTests
{
    private const string Head = "name: \"f\"\ninput: \"data\"\ninput_shape { dim: 1 dim: 1 dim: 2 dim: 2 }\n";

    private const string BnScale = """
        layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { eps: 1 } }
        layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
        layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
        """;

    private const string Conv = "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 2 kernel_size: 1 bias_term: false } }\n";

    private static BlobProto B(long[] shape, params float[] values)
    {
        var blob = new BlobProto { Shape = new BlobShape() };
        blob.Shape.Dim.AddRange(shape);
        blob.Data.AddRange(values);
        return blob;
    }

    private static NetParameter Weights(LayerParameter producer, float factor = 2f)
    {
        var net = new NetParameter { Name = "f" };
        net.Layer.Add(producer);
        net.Layer.Add(Layer("bn", "BatchNorm", B([2], 4, 0), B([2], 6, 16), B([1], factor)));
        net.Layer.Add(Layer("sc", "Scale", B([2], 4, 3), B([2], 1, -2)));
        return net;
    }

    private static (float[] W, float[] B, Node Producer, PassReport Report) Fold(CaffeFixture fixture, string layers, NetParameter weights)
    {
        var model = Read(fixture.Write("net.prototxt", Head + layers), fixture.Write("net.caffemodel", weights.ToByteArray()));
        var report = PassManager.Run(model.Graph);
        var producer = model.Graph.Nodes.First(n => n.OpType is "Conv" or "ConvTranspose" or "FullyConnected");
        var w = model.Graph.Initializers[producer.Inputs[1]].Data!.ToArray();
        var b = producer.Inputs.Count > 2 && producer.Inputs[2].Length > 0 ? model.Graph.Initializers[producer.Inputs[2]].Data!.ToArray() : [];
        return (w, b, producer, report);
    }

    [TestMethod]
    public void Batchnorm_and_scale_in_place_fold_into_a_conv_that_gains_a_bias()
    {
        using var fixture = new CaffeFixture();
        var (w, b, conv, report) = Fold(fixture, Conv + BnScale, Weights(Layer("conv", "Convolution", B([2, 1, 1, 1], 2, -1))));
        CollectionAssert.AreEqual(new[] { 4f, -1f }, w);
        CollectionAssert.AreEqual(new[] { -3f, -2f }, b);
        Assert.AreEqual(2, report.Applied.Count(), string.Join("\n", report.Events));
        Assert.HasCount(3, conv.Inputs);
    }

    [TestMethod]
    public void A_zero_factor_folds_with_zero_mean_and_variance()
    {
        // mean = var = 0: D = sqrt(0 + 1) = 1, a = gamma = (4, 3); W' = (8, -3); b' = beta = (1, -2).
        using var fixture = new CaffeFixture();
        var (w, b, _, _) = Fold(fixture, Conv + BnScale, Weights(Layer("conv", "Convolution", B([2, 1, 1, 1], 2, -1)), factor: 0));
        CollectionAssert.AreEqual(new[] { 8f, -3f }, w);
        CollectionAssert.AreEqual(new[] { 1f, -2f }, b);
    }

    [TestMethod]
    public void Batchnorm_without_scale_uses_gamma_one_and_beta_zero_and_keeps_the_conv_bias()
    {
        // Conv bias (1, 1); only the BN: a = 1 / D = (0.5, 1/3); W' = (1, -1/3); b' = a * (1 - mean) = (-0.5, 1/3).
        using var fixture = new CaffeFixture();
        var conv = "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 2 kernel_size: 1 } }\n";
        var weights = Weights(Layer("conv", "Convolution", B([2, 1, 1, 1], 2, -1), B([2], 1, 1)));
        var (w, b, _, _) = Fold(fixture, conv + "layer { name: \"bn\" type: \"BatchNorm\" bottom: \"conv\" top: \"conv\" batch_norm_param { eps: 1 } }\n", weights);
        CollectionAssert.AreEqual(new[] { 1f, (float)(-1.0 / 3) }, w);
        CollectionAssert.AreEqual(new[] { -0.5f, (float)(1.0 / 3) }, b);
    }

    [TestMethod]
    public void Deconvolution_scales_along_its_output_axis()
    {
        // Deconv weights (Cin 1, Cout 2, 1, 1) = (2, -1): the same numbers as the conv case.
        using var fixture = new CaffeFixture();
        var deconv = "layer { name: \"conv\" type: \"Deconvolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 2 kernel_size: 1 bias_term: false } }\n";
        var (w, b, _, _) = Fold(fixture, deconv + BnScale, Weights(Layer("conv", "Deconvolution", B([1, 2, 1, 1], 2, -1))));
        CollectionAssert.AreEqual(new[] { 4f, -1f }, w);
        CollectionAssert.AreEqual(new[] { -3f, -2f }, b);
    }

    [TestMethod]
    public void Transposed_inner_product_scales_its_columns()
    {
        // 4 inputs (1x2x2 flattened), 2 outputs, stored (I=4, J=2) rows (1 2)(3 4)(5 6)(7 8).
        // a = (2, 1): column 0 doubles -> (2 2)(6 4)(10 6)(14 8); b' = (-3, -2).
        using var fixture = new CaffeFixture();
        var ip = "layer { name: \"conv\" type: \"InnerProduct\" bottom: \"data\" top: \"conv\" inner_product_param { num_output: 2 bias_term: false transpose: true } }\n";
        var (w, b, _, report) = Fold(fixture, ip + BnScale, Weights(Layer("conv", "InnerProduct", B([4, 2], 1, 2, 3, 4, 5, 6, 7, 8))));
        CollectionAssert.AreEqual(new[] { 2f, 2f, 6f, 4f, 10f, 6f, 14f, 8f }, w, string.Join("\n", report.Events));
        CollectionAssert.AreEqual(new[] { -3f, -2f }, b);
    }

    [TestMethod]
    public void Batchnorm_with_batch_statistics_is_not_folded()
    {
        using var fixture = new CaffeFixture();
        var layers = Conv + BnScale.Replace("eps: 1", "eps: 1 use_global_stats: false", StringComparison.Ordinal);
        var (w, _, _, report) = Fold(fixture, layers, Weights(Layer("conv", "Convolution", B([2, 1, 1, 1], 2, -1))));
        CollectionAssert.AreEqual(new[] { 2f, -1f }, w);
        var skipped = report.Events.Single(e => e.Node == "bn" && e.Outcome == PassOutcome.NotApplied);
        StringAssert.Contains(skipped.Detail, "use_global_stats");
    }

    [TestMethod]
    public void A_blob_read_by_another_layer_before_the_batchnorm_does_not_fold()
    {
        // "side" reads conv's top before BN rewrites it in place: two readers of the conv output.
        using var fixture = new CaffeFixture();
        var layers = Conv + "layer { name: \"side\" type: \"Pooling\" bottom: \"conv\" top: \"side\" pooling_param { pool: MAX global_pooling: true } }\n" + BnScale;
        var (w, _, _, report) = Fold(fixture, layers, Weights(Layer("conv", "Convolution", B([2, 1, 1, 1], 2, -1))));
        CollectionAssert.AreEqual(new[] { 2f, -1f }, w);
        var skipped = report.Events.Single(e => e.Node == "bn" && e.Outcome == PassOutcome.NotApplied);
        StringAssert.Contains(skipped.Detail, "2 consumers");
    }
}
