using NeuralBuild.Engine.Reporting;

namespace NeuralBuild.Engine.Tests.Reporting;

/// <summary>The layered layout on hand-drawn graphs whose ranks and crossings are worked out here.</summary>
[TestClass]
public sealed class LayeredLayoutTests
{
    private static readonly LayoutSpacing s_spacing = new();

    private static Dictionary<int, PlacedBox> Boxes(GraphLayout layout) => layout.Boxes.ToDictionary(b => b.Id);

    [TestMethod]
    public void A_diamond_takes_three_ranks_with_its_branches_side_by_side()
    {
        var layout = LayeredLayout.Compute([10, 11, 12, 13], [(10, 11), (10, 12), (11, 13), (12, 13)]);
        var boxes = Boxes(layout);

        CollectionAssert.AreEqual(new[] { 0, 1, 1, 2 }, new[] { 10, 11, 12, 13 }.Select(id => boxes[id].Rank).ToArray());
        Assert.AreEqual(boxes[11].Y, boxes[12].Y);
        Assert.IsGreaterThanOrEqualTo(s_spacing.BoxWidth + s_spacing.HorizontalGap, Math.Abs(boxes[11].X - boxes[12].X));
        Assert.AreEqual(s_spacing.BoxHeight + s_spacing.VerticalGap, boxes[11].Y - boxes[10].Y, 1e-9);
        // The join sits centred under its two branches, the source above them.
        Assert.AreEqual((boxes[11].X + boxes[12].X) / 2, boxes[13].X, 1e-6);
        Assert.AreEqual(boxes[13].X, boxes[10].X, 1e-6);
    }

    [TestMethod]
    public void Every_edge_runs_from_the_foot_of_its_source_to_the_head_of_its_target()
    {
        var layout = LayeredLayout.Compute([0, 1, 2, 3], [(0, 1), (1, 2), (2, 3), (0, 3)]);
        var boxes = Boxes(layout);

        Assert.HasCount(4, layout.Edges);
        foreach (var edge in layout.Edges)
        {
            var (from, to) = (boxes[edge.From], boxes[edge.To]);
            Assert.AreEqual((from.X + (from.Width / 2), from.Y + from.Height), edge.Points[0]);
            Assert.AreEqual((to.X + (to.Width / 2), to.Y), edge.Points[^1]);
        }
    }

    [TestMethod]
    public void A_long_edge_passes_each_rank_it_crosses_straight_down_beside_the_boxes_there()
    {
        var layout = LayeredLayout.Compute([0, 1, 2, 3], [(0, 1), (1, 2), (2, 3), (0, 3)]);
        var boxes = Boxes(layout);
        var skip = layout.Edges.Single(e => e.From == 0 && e.To == 3);

        // Ranks 1 and 2 lie between: two points each (top and bottom of the row), plus the two ends.
        Assert.HasCount(6, skip.Points);
        foreach (var (id, top) in new[] { (1, skip.Points[1]), (2, skip.Points[3]) })
        {
            var box = boxes[id];
            Assert.AreEqual(box.Y, top.Y, 1e-9);
            var clearance = Math.Abs(top.X - (box.X + (box.Width / 2)));
            Assert.IsGreaterThanOrEqualTo((box.Width / 2) + s_spacing.HorizontalGap, clearance, $"the edge passes through box {id}");
        }

        Assert.AreEqual(skip.Points[1].X, skip.Points[2].X, "straight down through rank 1");
    }

    [TestMethod]
    public void A_source_nothing_feeds_sits_just_above_its_reader_not_at_the_top()
    {
        // 0 -> 1 -> 2 <- 3: 3 is read only by 2 (rank 2), so it belongs on rank 1, not 0.
        var layout = LayeredLayout.Compute([0, 1, 3, 2], [(0, 1), (1, 2), (3, 2)]);

        Assert.AreEqual(1, Boxes(layout)[3].Rank);
    }

    [TestMethod]
    public void The_ordering_removes_a_crossing_the_first_placement_has()
    {
        // Depth-first from 0 places 3 before 2 (0's edges in that order); 1 -> 3 then crosses 0 -> 2.
        // Drawn without crossings, 3 is on 1's side: 2 and 3 must swap.
        var layout = LayeredLayout.Compute([0, 1, 2, 3], [(0, 3), (0, 2), (1, 3)]);

        Assert.AreEqual(0, CrossingsOf(layout));
    }

    [TestMethod]
    public void No_two_boxes_overlap_in_a_wide_graph_with_many_long_edges()
    {
        // A fan of 12 branches of different lengths into one join (an SSD-like shape).
        var ids = new List<int> { 0 };
        var edges = new List<(int, int)>();
        var next = 1;
        var ends = new List<int>();
        for (var branch = 0; branch < 12; branch++)
        {
            var previous = 0;
            for (var step = 0; step <= branch % 5; step++)
            {
                ids.Add(next);
                edges.Add((previous, next));
                previous = next++;
            }

            ends.Add(previous);
        }

        ids.Add(next);
        edges.AddRange(ends.Select(e => (e, next)));

        var layout = LayeredLayout.Compute(ids, edges);

        Assert.HasCount(ids.Count, layout.Boxes);
        Assert.HasCount(edges.Count, layout.Edges);
        foreach (var a in layout.Boxes)
        {
            foreach (var b in layout.Boxes.Where(b => b.Id > a.Id))
            {
                var apart = a.X + a.Width <= b.X || b.X + b.Width <= a.X || a.Y + a.Height <= b.Y || b.Y + b.Height <= a.Y;
                Assert.IsTrue(apart, $"boxes {a.Id} and {b.Id} overlap");
            }

            Assert.IsTrue(a.X >= 0 && a.X + a.Width <= layout.Width && a.Y >= 0 && a.Y + a.Height <= layout.Height, $"box {a.Id} outside the drawing");
        }
    }

    /// <summary>Crossings of edges between adjacent ranks, from the drawn points (each edge's segments between consecutive row boundaries).</summary>
    private static int CrossingsOf(GraphLayout layout)
    {
        var segments = layout.Edges.SelectMany(e => e.Points.Zip(e.Points.Skip(1)).Where(p => p.First.Y < p.Second.Y)).ToList();
        var crossings = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            for (var j = i + 1; j < segments.Count; j++)
            {
                var (a, b) = (segments[i], segments[j]);
                if (a.First.Y != b.First.Y || a.Second.Y != b.Second.Y)
                {
                    continue;
                }

                if ((a.First.X - b.First.X) * (a.Second.X - b.Second.X) < 0)
                {
                    crossings++;
                }
            }
        }

        return crossings;
    }

    [TestMethod]
    public void A_layer_numbered_before_the_layer_it_reads_is_still_drawn_below_it()
    {
        // Data flows 5 -> 3 -> 4: the numbering is not the order of the flow.
        var boxes = Boxes(LayeredLayout.Compute([3, 4, 5], [(5, 3), (3, 4)]));

        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, new[] { 5, 3, 4 }.Select(id => boxes[id].Rank).ToArray());
    }

    [TestMethod]
    public void An_edge_closing_a_cycle_or_naming_an_unknown_box_is_left_out_and_every_box_still_placed()
    {
        var layout = LayeredLayout.Compute([0, 1, 2], [(0, 1), (1, 2), (2, 1), (2, 9), (1, 1)]);

        Assert.HasCount(3, layout.Boxes);
        Assert.IsFalse(layout.Edges.Any(e => e.To == 9 || e.From == e.To));
        Assert.IsTrue(layout.Edges.Any(e => e.From == 0 && e.To == 1));
    }
}
