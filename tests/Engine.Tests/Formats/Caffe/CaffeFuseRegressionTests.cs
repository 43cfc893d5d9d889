using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Formats.Caffe;

/// <summary>
/// Crashes found by mutating corpus prototxts (the fuzzer's reproducers, minimised), run through
/// <see cref="ModelOptimizer.Optimize"/> as <c>dotnet neural fuse</c> runs them: each now fuses or
/// is refused with a code.
/// </summary>
[TestClass]
public sealed class CaffeFuseRegressionTests
{
    private static OptimizeResult Fuse(CaffeFixture fixture, string prototxt, VerifyMode verify)
    {
        var path = fixture.Write("net.prototxt", prototxt);
        var weights = Path.ChangeExtension(path, ".caffemodel");
        CaffeSyntheticWeights.Write(ModelFormats.Read(path), weights, new SyntheticWeightsOptions { Seed = 7 });
        return ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = path,
            WeightsPath = weights,
            Verify = verify,
            OutputDirectory = Path.Combine(Path.GetDirectoryName(path)!, "out"),
        });
    }

    [TestMethod]
    [DataRow(VerifyMode.Layers)]
    [DataRow(VerifyMode.Model)]
    public void A_conv_stride_wider_than_the_image_fuses_and_verifies_as_Caffe_accepts_it(VerifyMode verify)
    {
        // Was (mobilenet_v2, a depthwise stride 2 -> 65536): OverflowException sizing the fold's
        // verification patch from the stride. Caffe: out = (8 + 2 x 1 - 3)/65536 + 1 = 1.
        const string prototxt = """
            input: "data"
            input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 3 pad: 1 stride: 65536 bias_term: false } }
            layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
            """;
        using var fixture = new CaffeFixture();

        var result = Fuse(fixture, prototxt, verify);

        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
        Assert.AreEqual("1x2x1x1", result.After.Layer(0).OutputShape);
        Assert.HasCount(1, result.After.Layers, "the Scale folds into the convolution");
    }
}
