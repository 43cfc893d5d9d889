using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Ops;

/// <summary>Darknet [route] through Concat: channels add up; groups/group_id take a channel slice.</summary>
[TestClass]
public sealed class ConcatTests
{
    private const string TwoBranches = """
        [net]
        width=16
        height=16
        channels=3

        [convolutional]
        filters=64
        size=1

        [convolutional]
        filters=32
        size=1

        """;

    [TestMethod]
    public void A_route_of_two_layers_concatenates_their_channels()
    {
        // 64 + 32 = 96 channels at 16x16.
        var report = DarknetCfg.Analyze(TwoBranches + "[route]\nlayers=-2,-1\n");

        Assert.AreEqual("1x96x16x16", report.Layer(2).OutputShape);
    }

    [TestMethod]
    public void A_route_of_one_layer_passes_it_on()
    {
        var report = DarknetCfg.Analyze(TwoBranches + "[route]\nlayers=0\n");

        Assert.AreEqual("1x64x16x16", report.Layer(2).OutputShape);
    }

    [TestMethod]
    public void Route_groups_take_one_slice_of_each_input()
    {
        // yolov4-tiny's CSP split: groups=2 group_id=1 keeps the second half, 64/2 = 32 channels.
        var single = DarknetCfg.Analyze(TwoBranches + "[route]\nlayers=-2\ngroups=2\ngroup_id=1\n");
        Assert.AreEqual("1x32x16x16", single.Layer(2).OutputShape);

        // Of two inputs, each is sliced: 64/4 + 32/4 = 16 + 8 = 24.
        var both = DarknetCfg.Analyze(TwoBranches + "[route]\nlayers=-2,-1\ngroups=4\ngroup_id=3\n");
        Assert.AreEqual("1x24x16x16", both.Layer(2).OutputShape);
    }

    [TestMethod]
    public void A_grouped_route_reads_only_its_slice()
    {
        // Ideal memory access: slice read 16*16*32 = 8,192, output written 8,192.
        var report = DarknetCfg.Analyze(TwoBranches + "[route]\nlayers=-2\ngroups=2\ngroup_id=0\n");

        Assert.AreEqual(8_192L + 8_192L, report.Layer(2).Cost.MemoryAccessIdeal);
    }
}
