using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [shortcut]: output shaped like the layer before; one add per element and added layer.</summary>
[TestClass]
public sealed class ShortcutTests
{
    /// <summary>darknet53's residual block at 52x52: layer 0 is the block input, 1 and 2 the block.</summary>
    private const string Residual = """
        [net]
        width=52
        height=52
        channels=3

        [convolutional]
        filters=128
        size=1
        activation=leaky

        [convolutional]
        filters=64
        size=1
        activation=leaky

        [convolutional]
        filters=128
        size=3
        pad=1
        activation=leaky

        """;

    [TestMethod]
    public void A_shortcut_keeps_the_shape_of_the_layer_before_and_adds_once_per_element()
    {
        // 52x52x128 + 52x52x128: 52*52*128 = 346,112 adds, no MACC, no params.
        var report = DarknetCfg.Analyze(Residual + "[shortcut]\nfrom=-3\nactivation=linear\n");

        var shortcut = report.Layer(3);
        Assert.AreEqual("1x128x52x52", shortcut.OutputShape);
        Assert.AreEqual(346_112L, shortcut.Cost.Secondary.Elementwise);
        Assert.AreEqual(0L, shortcut.Cost.Macc);
        Assert.AreEqual(0L, shortcut.Cost.Params);
    }

    [TestMethod]
    public void A_shortcut_of_fewer_channels_keeps_the_shape_of_the_layer_before()
    {
        // Adding layer 1 (64 channels) to layer 2 (128): darknet adds the overlapping 64 channels
        // and the output stays 52x52x128.
        var report = DarknetCfg.Analyze(Residual + "[shortcut]\nfrom=-2\nactivation=linear\n");

        Assert.AreEqual("1x128x52x52", report.Layer(3).OutputShape);
    }

    [TestMethod]
    public void A_shortcut_from_two_layers_adds_twice_per_element()
    {
        // from=-3,-2: layers 0 and 1 are added to layer 2; 2 x 346,112 = 692,224 adds.
        var report = DarknetCfg.Analyze(Residual + "[shortcut]\nfrom=-3,-2\nactivation=linear\n");

        Assert.AreEqual("1x128x52x52", report.Layer(3).OutputShape);
        Assert.AreEqual(692_224L, report.Layer(3).Cost.Secondary.Elementwise);
    }

    [TestMethod]
    public void Ideal_memory_access_reads_every_input_and_writes_the_output()
    {
        // Reads x (346,112) and the added layer (346,112), writes 346,112: 1,038,336.
        var report = DarknetCfg.Analyze(Residual + "[shortcut]\nfrom=-3\nactivation=linear\n");

        Assert.AreEqual(1_038_336L, report.Layer(3).Cost.MemoryAccessIdeal);
    }
}
