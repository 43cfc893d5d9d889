using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;
using NeuralBuild.Engine.Tests.Support;

namespace NeuralBuild.Engine.Tests.Analysis;

/// <summary>Peak live activation memory and activation bytes, on graphs small enough to draw.</summary>
[TestClass]
public sealed class PeakMemoryTests
{
    /// <summary>
    /// <code>
    /// data 8x8x1 ─ L0 conv 4 (+BN, leaky in place) 8x8x4 ─ L1 maxpool 4x4x4 ─┬─ L2 conv 8 4x4x8 ─┬─ L3 route 4x4x12 ─ L4 conv 1 4x4x1
    ///                                                                          └───────────────────┘
    /// </code>
    /// Bytes (float32): data 8*8*1*4 = 256, L0 8*8*4*4 = 1,024, L1 4*4*4*4 = 256, L2 4*4*8*4 = 512,
    /// L3 4*4*12*4 = 768, L4 4*4*1*4 = 64.
    /// </summary>
    private const string Drawn = """
        [net]
        width=8
        height=8
        channels=1

        [convolutional]
        batch_normalize=1
        filters=4
        size=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        filters=8
        size=1
        activation=linear

        [route]
        layers=-1,-2

        [convolutional]
        filters=1
        size=1
        activation=linear
        """;

    [TestMethod]
    public void Peak_is_reached_where_the_route_keeps_its_inputs_alive()
    {
        // Live bytes per step (a tensor lives from its writer to its last reader):
        //   L0 conv      data 256 + L0 1,024                = 1,280
        //   L0 BN, leaky in place: L0 1,024                 = 1,024
        //   L1 maxpool   L0 1,024 + L1 256                  = 1,280
        //   L2 conv      L1 256 + L2 512                    =   768
        //   L3 route     L1 256 + L2 512 + L3 768           = 1,536  <- peak: L1 is still needed here
        //   L4 conv      L3 768 + L4 64                     =   832
        // Were BN and leaky not in place, L0's step would hold 2 x 1,024 = 2,048; were L1 freed
        // after L2, the route's step would hold 1,280.
        var report = DarknetCfg.Analyze(Drawn);

        Assert.AreEqual(1_536L, report.PeakActivationBytes);
        Assert.AreEqual(3, report.PeakLayerIndex);
    }

    [TestMethod]
    public void Activation_bytes_count_each_new_tensor_once_and_in_place_layers_not_at_all()
    {
        // L0 writes 1,024 (BN and leaky overwrite it); then 256 + 512 + 768 + 64: total 2,624.
        var report = DarknetCfg.Analyze(Drawn);

        Assert.AreEqual(1_024L, report.Layer(0).Cost.ActivationBytes);
        Assert.AreEqual(768L, report.Layer(3).Cost.ActivationBytes);
        Assert.AreEqual(2_624L, report.Totals.ActivationBytes);
    }

    [TestMethod]
    public void A_graph_drawn_node_by_node_frees_a_tensor_after_its_last_reader()
    {
        // x (100 B) -> a (200 B) -> b (50 B, in place on a) -> c (400 B); b and x both feed d (10 B).
        //   step 0 a: x 100 + a 200       = 300
        //   step 1 b: in place, a/b 200 + x 100 = 300
        //   step 2 c: x 100 + b 200 + c 400 = 700  <- peak
        //   step 3 d: x 100 + b 200 + c 400 + d 10 = 710
        // d reads x, b and c, so everything lives to the end: peak 710 at step 3.
        var graph = new Graph();
        graph.Inputs["x"] = new Shape(25);
        var origin = new LayerOrigin(0, "test", "0", SourceLocation.None);
        graph.Nodes.Add(new Node("a", "Identity", ["x"], ["a"], origin));
        graph.Nodes.Add(new Node("b", "Identity", ["a"], ["b"], origin) { InPlace = true });
        graph.Nodes.Add(new Node("c", "Identity", ["b"], ["c"], origin));
        graph.Nodes.Add(new Node("d", "Identity", ["x", "b", "c"], ["d"], origin));
        graph.Outputs.Add("d");
        var sizes = new Dictionary<string, long> { ["x"] = 100, ["a"] = 200, ["b"] = 50, ["c"] = 400, ["d"] = 10 };

        var result = PeakMemory.Compute(graph, new Dictionary<string, Shape>(), value => sizes[value]);

        Assert.AreEqual(710L, result.PeakBytes);
        Assert.AreEqual(3, result.PeakNodeIndex);
    }

    [TestMethod]
    public void A_tensor_is_freed_once_its_last_reader_has_run()
    {
        // x 100 -> a 200 -> b 300 -> c 50: at b, x is dead (a read it), so 200 + 300 = 500.
        var graph = new Graph();
        graph.Inputs["x"] = new Shape(25);
        var origin = new LayerOrigin(0, "test", "0", SourceLocation.None);
        graph.Nodes.Add(new Node("a", "Identity", ["x"], ["a"], origin));
        graph.Nodes.Add(new Node("b", "Identity", ["a"], ["b"], origin));
        graph.Nodes.Add(new Node("c", "Identity", ["b"], ["c"], origin));
        graph.Outputs.Add("c");
        var sizes = new Dictionary<string, long> { ["x"] = 100, ["a"] = 200, ["b"] = 300, ["c"] = 50 };

        var result = PeakMemory.Compute(graph, new Dictionary<string, Shape>(), value => sizes[value]);

        Assert.AreEqual(500L, result.PeakBytes);
        Assert.AreEqual(1, result.PeakNodeIndex);
    }
}
