using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>Each FLOP-counting preset on one tiny model, against the hand count written out below.</summary>
[TestClass]
public sealed class CountingConventionTests
{
    /// <summary>
    /// Per layer (outputs = output elements, K = reduction length):
    ///   L0 conv 8x8x2 -> 8x8x4, 3x3 pad 1: outputs 256, K = 3*3*2 = 18, MACC 4,608
    ///   L1 conv 1x1 -> 8x8x4:              outputs 256, K = 4,         MACC 1,024
    ///   L2 shortcut from L0:               256 adds
    ///   L3 maxpool 2x2/2 -> 4x4x4:         64 outputs x 4 window elements = 256 comparisons
    ///   L4 conv xnor 1x1 -> 4x4x2:         outputs 32, K = 4,          MACC 128
    ///   L5 connected 32 -> 3:              outputs 3,  K = 32,         MACC 96
    /// MACC = 4,608 + 1,024 + 128 + 96 = 5,856; conv/FC outputs = 256 + 256 + 32 + 3 = 547.
    /// </summary>
    private const string Tiny = """
        [net]
        width=8
        height=8
        channels=2

        [convolutional]
        filters=4
        size=3
        pad=1
        activation=linear

        [convolutional]
        filters=4
        size=1
        activation=linear

        [shortcut]
        from=-2
        activation=linear

        [maxpool]
        size=2
        stride=2

        [convolutional]
        xnor=1
        filters=2
        size=1
        activation=linear

        [connected]
        output=3
        activation=linear
        """;

    private const long Macc = 5_856;
    private const long ConvAndFcOutputs = 547;

    [TestMethod]
    [DataRow("default", 2 * Macc)] // 11,712
    [DataRow("darknet", 2 * Macc)] // pjreddie's ops: 2 x MACC of conv and connected, xnor or not
    [DataRow("tf-profiler", 2 * Macc)]
    [DataRow("torchvision", Macc)] // MACs reported as "FLOPs"
    [DataRow("fvcore", Macc)]
    [DataRow("ptflops", Macc)]
    [DataRow("no-bias", (2 * Macc) - ConvAndFcOutputs)] // (2K - 1) per output: 11,712 - 547 = 11,165
    [DataRow("with-bias", (2 * Macc) + ConvAndFcOutputs)] // (2K + 1) per output: 11,712 + 547 = 12,259
    public void Each_convention_counts_the_tiny_model_as_written_out(string convention, long expected)
    {
        var report = DarknetCfg.Analyze(Tiny, convention);

        Assert.AreEqual(Macc, report.Totals.Macc);
        Assert.AreEqual(expected, report.Totals.Flops);
        Assert.AreEqual(convention, report.Convention.Name);
    }

    [TestMethod]
    public void AlexeyAB_adds_maxpool_windows_and_shortcut_adds_and_divides_xnor_convs_by_32()
    {
        // conv 2 x 4,608 + conv 2 x 1,024 + shortcut 256 + maxpool 256 + xnor conv 2 x 128 / 32 + FC 2 x 96
        // = 9,216 + 2,048 + 256 + 256 + 8 + 192 = 11,976.
        var report = DarknetCfg.Analyze(Tiny, "alexeyab");

        Assert.AreEqual(11_976L, report.Totals.Flops);
        Assert.AreEqual(256L, report.Layer(2).Cost.Flops);
        Assert.AreEqual(256L, report.Layer(3).Cost.Flops);
        Assert.AreEqual(8L, report.Layer(4).Cost.Flops);
    }

    [TestMethod]
    public void Convention_names_are_case_insensitive()
    {
        Assert.AreEqual("alexeyab", CountingConvention.Get("AlexeyAB").Name);
    }

    [TestMethod]
    public void An_unknown_convention_is_NM0004_and_lists_the_known_ones()
    {
        var error = DiagnosticAssert.Throws(DiagnosticCodes.UnknownConvention, () => CountingConvention.Get("gflops"));

        Assert.Contains("'gflops'", error.Diagnostic.Message);
        foreach (var known in CountingConvention.All)
        {
            Assert.Contains(known.Name, error.Diagnostic.Message);
        }
    }
}
