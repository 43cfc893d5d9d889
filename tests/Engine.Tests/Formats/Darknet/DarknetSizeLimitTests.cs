using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Pipeline;
using NeuralBuild.Engine.Tests.Support;
using NeuralBuild.SyntheticWeights;

namespace NeuralBuild.Engine.Tests.Formats.Darknet;

/// <summary>
/// Sizes computed from in-range options: a tensor of more than 2^31 - 1 elements (what one
/// float array holds) is refused as NM0018 at the section that makes it; the largest accepted
/// layer still costs less than 2^63. And the crashes found by mutating cfgs, run through
/// <see cref="ModelOptimizer.Optimize"/> as <c>dotnet neural fuse</c> runs them.
/// </summary>
[TestClass]
public sealed class DarknetSizeLimitTests
{
    private static NeuralException TooLarge(string cfg, ModelReadOptions? options = null) =>
        DiagnosticAssert.Throws(DiagnosticCodes.CfgTensorTooLarge, () => DarknetCfg.Read(cfg, options));

    [TestMethod]
    public void An_input_of_more_than_2_to_the_31_elements_is_refused_at_net()
    {
        // 3 x 65536 x 65536 = 12,884,901,888; every option is within 2^20.
        const string cfg = "[net]\nwidth=65536\nheight=65536\nchannels=3\n\n[convolutional]\nfilters=8\n";

        var error = TooLarge(cfg);

        DiagnosticAssert.At(error, 1, 1);
        Assert.Contains("The input 1x3x65536x65536 has 12,884,901,888 elements", error.Diagnostic.Message);
        Assert.Contains("at most 2,147,483,647 (2^31 - 1)", error.Diagnostic.Message);
    }

    [TestMethod]
    public void An_input_shape_given_by_the_caller_is_held_to_the_same_limit()
    {
        const string cfg = "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=8\n";

        var error = TooLarge(cfg, new ModelReadOptions { InputShape = Shape.Nchw(2, 3, 32768, 32768) });

        DiagnosticAssert.At(error, 1, 1);
        // 2 x 3 x 32768 x 32768 = 6,442,450,944.
        Assert.Contains("The input 2x3x32768x32768 has 6,442,450,944 elements", error.Diagnostic.Message);
    }

    [TestMethod]
    public void A_layer_output_of_more_than_2_to_the_31_elements_is_refused_at_its_section()
    {
        // 4096 x 1024 x 1024 = 4,294,967,296 = 2^32.
        const string cfg = """
            [net]
            width=1024
            height=1024
            channels=3

            [convolutional]
            filters=4096
            size=1
            """;

        var error = TooLarge(cfg);

        DiagnosticAssert.At(error, 6, 1);
        Assert.Contains("layer 0 [convolutional] output 1x4096x1024x1024 has 4,294,967,296 elements", error.Diagnostic.Message);
    }

    [TestMethod]
    public void Weights_of_more_than_2_to_the_31_elements_are_refused_at_their_section()
    {
        // 1,048,576 outputs x (3 x 32 x 32 = 3072) inputs = 3,221,225,472 weights.
        const string cfg = """
            [net]
            width=32
            height=32
            channels=3

            [connected]
            output=1048576
            """;

        var error = TooLarge(cfg);

        DiagnosticAssert.At(error, 6, 1);
        Assert.Contains("layer 0 [connected] weights 1048576x3072 has 3,221,225,472 elements", error.Diagnostic.Message);
    }

    [TestMethod]
    public void An_upsample_by_the_largest_stride_is_refused_for_its_output_not_its_stride()
    {
        // 8 x (32 x 1048576)^2 = 8 x 2^50 = 9,007,199,254,740,992.
        const string cfg = """
            [net]
            width=32
            height=32
            channels=3

            [convolutional]
            filters=8
            size=1

            [upsample]
            stride=1048576
            """;

        var error = TooLarge(cfg);

        DiagnosticAssert.At(error, 10, 1);
        Assert.Contains("layer 1 [upsample] output 1x8x33554432x33554432 has 9,007,199,254,740,992 elements", error.Diagnostic.Message);
    }

    [TestMethod]
    public void The_costliest_conv_the_limits_allow_still_counts_in_64_bits()
    {
        // One 46340 x 46340 channel (2,147,395,600 elements) through a 46339 x 46339 kernel
        // (2,147,302,921 weights) padded by 23169: out = 46340 + 2 x 23169 - 46339 + 1 = 46340.
        // MACC = 2,147,302,921 x 2,147,395,600 = 4,611,108,844,422,547,600 (< 2^63 - 1 = 9.22 x 10^18).
        const string cfg = """
            [net]
            width=46340
            height=46340
            channels=1

            [convolutional]
            filters=1
            size=46339
            pad=1
            activation=linear
            """;

        var report = CostModel.Analyze(DarknetCfg.Read(cfg));

        Assert.AreEqual("1x1x46340x46340", report.Layer(0).OutputShape);
        Assert.AreEqual(4_611_108_844_422_547_600L, report.Layer(0).Cost.Macc);
    }

    // ---------------------------------------------------------------------------------------
    // Reproducers of crashes found by mutating corpus cfgs, through the entry point `fuse` uses.

    private const string BatchNormConv = """
        [net]
        width=32
        height=32
        channels=3

        [convolutional]
        batch_normalize=1
        filters=8
        size=3
        stride=STRIDE
        pad=1
        activation=leaky
        """;

    /// <summary>Writes the cfg and weights generated for <paramref name="weightsCfg"/> (same stored tensors) and fuses.</summary>
    private static OptimizeResult Fuse(TempDirectory temp, string cfg, string weightsCfg, VerifyMode verify)
    {
        var forWeights = temp.WriteText("weights-source.cfg", weightsCfg);
        var weights = temp.Combine("model.weights");
        DarknetSyntheticWeights.Write(ModelFormats.Read(forWeights), weights, new SyntheticWeightsOptions { Seed = 5 });
        return ModelOptimizer.Optimize(new OptimizeRequest
        {
            DefinitionPath = temp.WriteText(DarknetCfg.FileName, cfg),
            WeightsPath = weights,
            Verify = verify,
            OutputDirectory = temp.Combine("out"),
        });
    }

    [TestMethod]
    [DataRow(VerifyMode.Layers)]
    [DataRow(VerifyMode.Model)]
    public void A_long_max_conv_stride_is_refused_at_the_value_instead_of_overflowing_the_executor(VerifyMode verify)
    {
        // Was: OverflowException in the executor's conv geometry (stride cast to int).
        using var temp = new TempDirectory();
        var cfg = BatchNormConv.Replace("STRIDE", "9223372036854775807", StringComparison.Ordinal);

        var error = DiagnosticAssert.Throws(DiagnosticCodes.CfgInvalidValue,
            () => Fuse(temp, cfg, BatchNormConv.Replace("STRIDE", "1", StringComparison.Ordinal), verify));

        Assert.AreEqual(Path.Combine(temp.Path, DarknetCfg.FileName), error.Location.File);
        Assert.AreEqual(DarknetCfg.LineOf(cfg, "stride=9223372036854775807"), error.Location.Line);
        Assert.AreEqual(8, error.Location.Column);
    }

    [TestMethod]
    [DataRow(VerifyMode.Layers)]
    [DataRow(VerifyMode.Model)]
    public void A_conv_stride_wider_than_the_image_fuses_and_verifies_as_darknet_accepts_it(VerifyMode verify)
    {
        // Was: OverflowException sizing the fold's verification patch from the stride
        // (3 + 2 x 65536 = 131075 square, x 3 channels). Darknet: out = (32 + 2 - 3)/65536 + 1 = 1.
        using var temp = new TempDirectory();
        var cfg = BatchNormConv.Replace("STRIDE", "65536", StringComparison.Ordinal);

        var result = Fuse(temp, cfg, cfg, verify);

        Assert.IsTrue(result.Verification!.Passed, result.Verification.Summary());
        Assert.AreEqual("1x8x1x1", result.After.Layer(0).OutputShape);
        Assert.IsFalse(result.After.Layer(0).Ops.Contains("BatchNormalization"));
    }
}
