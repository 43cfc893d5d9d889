namespace NeuralBuild.Engine.Reporting;

/// <summary>A box placed by <see cref="LayeredLayout"/>: <see cref="X"/> and <see cref="Y"/> are its top-left corner.</summary>
public sealed record PlacedBox(int Id, int Rank, double X, double Y, double Width, double Height);

/// <summary>An edge as drawn: from the bottom of its source box, through the rows it crosses, to the top of its target box.</summary>
public sealed record RoutedEdge(int From, int To, IReadOnlyList<(double X, double Y)> Points);

/// <summary>Where every box and edge of a graph goes, and the size of the drawing.</summary>
public sealed record GraphLayout(IReadOnlyList<PlacedBox> Boxes, IReadOnlyList<RoutedEdge> Edges, double Width, double Height);

/// <summary>The sizes a layout works with.</summary>
public sealed record LayoutSpacing
{
    public double BoxWidth { get; init; } = 190;

    public double BoxHeight { get; init; } = 52;

    /// <summary>Width reserved in a row for an edge passing through it.</summary>
    public double EdgeLaneWidth { get; init; } = 14;

    public double HorizontalGap { get; init; } = 22;

    public double VerticalGap { get; init; } = 42;

    public double Margin { get; init; } = 20;
}

/// <summary>
/// A top-to-bottom layered drawing of a directed acyclic graph, computed once when the report is
/// written so the page needs no layout code: ranks by longest path from the sources (a source is
/// pulled down to just above its first reader), an edge spanning several ranks broken into one
/// lane per rank it crosses, rows ordered by alternating barycentre sweeps (the ordering with the
/// fewest crossings is kept), and each row's horizontal positions the closest, in least squares, to
/// the mean of their neighbours' that keeps the boxes apart.
/// </summary>
public static class LayeredLayout
{
    private const int OrderingSweeps = 12;
    // Odd: the last sweep is downward, so a layer ends under the layers it reads.
    private const int PlacementSweeps = 9;

    /// <summary>
    /// Lays out <paramref name="ids"/> with <paramref name="edges"/>. The boxes are taken in a
    /// topological order of the edges, ties in the order given (a model's layer order), so a layer
    /// numbered before a layer it reads still sits below it. An edge naming an unknown box, a
    /// self-loop, or an edge closing a cycle (a graph a model cannot have) is left out of the layout.
    /// </summary>
    public static GraphLayout Compute(IReadOnlyList<int> ids, IEnumerable<(int From, int To)> edges, LayoutSpacing? spacing = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(edges);
        spacing ??= new LayoutSpacing();
        var given = new Dictionary<int, int>();
        for (var i = 0; i < ids.Count; i++)
        {
            given.Add(ids[i], i);
        }

        var known = edges.Distinct().Where(e => given.ContainsKey(e.From) && given.ContainsKey(e.To) && e.From != e.To).ToList();
        var sorted = TopologicalOrder(ids, given, known);
        var position = new Dictionary<int, int>();
        for (var i = 0; i < sorted.Count; i++)
        {
            position.Add(sorted[i], i);
        }

        var forward = known
            .Where(e => position[e.From] < position[e.To])
            .Select(e => (From: position[e.From], To: position[e.To]))
            .ToList();
        var rank = Ranks(sorted.Count, forward);
        var graph = new ProperGraph(sorted.Count, rank, forward);
        var order = Order(graph);
        var x = Place(graph, order, spacing);
        return Draw(sorted, graph, order, x, spacing);
    }

    /// <summary>Kahn's order, always taking the ready box given first; boxes left in a cycle follow in the order given.</summary>
    private static List<int> TopologicalOrder(IReadOnlyList<int> ids, Dictionary<int, int> given, List<(int From, int To)> edges)
    {
        var waiting = ids.ToDictionary(id => id, _ => 0);
        foreach (var (_, to) in edges)
        {
            waiting[to]++;
        }

        var readers = edges.ToLookup(e => e.From, e => e.To);
        var ready = new PriorityQueue<int, int>(ids.Where(id => waiting[id] == 0).Select(id => (id, given[id])));
        var order = new List<int>(ids.Count);
        var placed = new HashSet<int>();
        while (ready.TryDequeue(out var id, out _))
        {
            order.Add(id);
            placed.Add(id);
            foreach (var reader in readers[id])
            {
                if (--waiting[reader] == 0)
                {
                    ready.Enqueue(reader, given[reader]);
                }
            }
        }

        order.AddRange(ids.Where(id => !placed.Contains(id)));
        return order;
    }

    /// <summary>Longest-path ranks; a box nothing feeds sits one rank above its nearest reader.</summary>
    private static int[] Ranks(int count, List<(int From, int To)> edges)
    {
        var rank = new int[count];
        var fed = new bool[count];
        foreach (var (_, to) in edges)
        {
            fed[to] = true;
        }

        // Ids are topologically ordered, so one pass in order settles every rank.
        var incoming = edges.ToLookup(e => e.To, e => e.From);
        for (var v = 0; v < count; v++)
        {
            rank[v] = incoming[v].Select(u => rank[u] + 1).DefaultIfEmpty(0).Max();
        }

        var outgoing = edges.ToLookup(e => e.From, e => e.To);
        for (var v = count - 1; v >= 0; v--)
        {
            if (!fed[v] && outgoing[v].Any())
            {
                rank[v] = outgoing[v].Min(w => rank[w]) - 1;
            }
        }

        return rank;
    }

    /// <summary>Rows of vertex indices, ordered to reduce crossings.</summary>
    private static List<int>[] Order(ProperGraph graph)
    {
        var rows = Enumerable.Range(0, graph.RankCount).Select(_ => new List<int>()).ToArray();
        // First placement: depth-first from the sources, so a chain's members start aligned.
        var seen = new bool[graph.VertexCount];
        void Visit(int v)
        {
            if (seen[v])
            {
                return;
            }

            seen[v] = true;
            rows[graph.Rank[v]].Add(v);
            foreach (var w in graph.Down[v])
            {
                Visit(w);
            }
        }

        for (var v = 0; v < graph.VertexCount; v++)
        {
            if (graph.Up[v].Count == 0)
            {
                Visit(v);
            }
        }

        var best = rows.Select(r => r.ToList()).ToArray();
        var bestCrossings = Crossings(graph, rows);
        for (var sweep = 0; sweep < OrderingSweeps && bestCrossings > 0; sweep++)
        {
            var downward = sweep % 2 == 0;
            var indices = downward ? Enumerable.Range(1, graph.RankCount - 1) : Enumerable.Range(0, graph.RankCount - 1).Reverse();
            foreach (var r in indices)
            {
                var neighbourRow = rows[downward ? r - 1 : r + 1];
                var slot = new Dictionary<int, int>();
                for (var i = 0; i < neighbourRow.Count; i++)
                {
                    slot[neighbourRow[i]] = i;
                }

                var row = rows[r];
                var current = row.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
                double Barycentre(int v)
                {
                    var neighbours = downward ? graph.Up[v] : graph.Down[v];
                    return neighbours.Count == 0 ? current[v] : neighbours.Average(n => slot[n]);
                }

                // A stable sort: equal barycentres keep their order, so sweeps converge.
                rows[r] = [.. row.Select((v, i) => (v, i, key: Barycentre(v))).OrderBy(t => t.key).ThenBy(t => t.i).Select(t => t.v)];
            }

            var crossings = Crossings(graph, rows);
            if (crossings < bestCrossings)
            {
                bestCrossings = crossings;
                best = rows.Select(r => r.ToList()).ToArray();
            }
        }

        return best;
    }

    /// <summary>Edge crossings between each pair of adjacent rows, counted pair by pair.</summary>
    internal static long Crossings(ProperGraph graph, IReadOnlyList<List<int>> rows)
    {
        long total = 0;
        for (var r = 0; r + 1 < rows.Count; r++)
        {
            var below = new Dictionary<int, int>();
            for (var i = 0; i < rows[r + 1].Count; i++)
            {
                below[rows[r + 1][i]] = i;
            }

            var segments = new List<(int Top, int Bottom)>();
            for (var i = 0; i < rows[r].Count; i++)
            {
                segments.AddRange(graph.Down[rows[r][i]].Select(w => (i, below[w])));
            }

            for (var a = 0; a < segments.Count; a++)
            {
                for (var b = a + 1; b < segments.Count; b++)
                {
                    if ((segments[a].Top - segments[b].Top) * (long)(segments[a].Bottom - segments[b].Bottom) < 0)
                    {
                        total++;
                    }
                }
            }
        }

        return total;
    }

    /// <summary>Horizontal centres: alternating sweeps pull each vertex towards its neighbours' mean.</summary>
    private static double[] Place(ProperGraph graph, List<int>[] rows, LayoutSpacing spacing)
    {
        var x = new double[graph.VertexCount];
        double WidthOf(int v) => graph.IsDummy(v) ? spacing.EdgeLaneWidth : spacing.BoxWidth;
        foreach (var row in rows)
        {
            PackRow(row, row.Select(_ => 0.0).ToArray(), x, WidthOf, spacing.HorizontalGap);
        }

        for (var sweep = 0; sweep < PlacementSweeps; sweep++)
        {
            var downward = sweep % 2 == 0;
            var indices = downward ? Enumerable.Range(1, rows.Length - 1) : Enumerable.Range(0, rows.Length - 1).Reverse();
            foreach (var r in indices)
            {
                var desired = rows[r].Select(v =>
                {
                    var neighbours = downward ? graph.Up[v] : graph.Down[v];
                    return neighbours.Count == 0 ? x[v] : neighbours.Average(n => x[n]);
                }).ToArray();
                PackRow(rows[r], desired, x, WidthOf, spacing.HorizontalGap);
            }
        }

        return x;
    }

    /// <summary>
    /// Centres for <paramref name="row"/>, in its order, as close (least squares) to
    /// <paramref name="desired"/> as the boxes' widths and <paramref name="gap"/> allow: each box
    /// starts as a block at its wish; a block that would overlap the one to its left merges with it,
    /// and a merged block sits at the mean of its members' wishes less their offsets in the block.
    /// </summary>
    private static void PackRow(List<int> row, double[] desired, double[] x, Func<int, double> widthOf, double gap)
    {
        var offset = new double[row.Count];
        var blocks = new List<(int First, int Last, double Sum, int Count)>();
        for (var i = 0; i < row.Count; i++)
        {
            var block = (First: i, Last: i, Sum: desired[i], Count: 1);
            while (blocks.Count > 0)
            {
                var left = blocks[^1];
                var shift = offset[left.Last] + ((widthOf(row[left.Last]) + widthOf(row[block.First])) / 2) + gap;
                var leftCentre = left.Sum / left.Count;
                if (leftCentre + shift <= block.Sum / block.Count + 1e-9)
                {
                    break;
                }

                for (var k = block.First; k <= block.Last; k++)
                {
                    offset[k] += shift;
                }

                block = (left.First, block.Last, left.Sum + block.Sum - (block.Count * shift), left.Count + block.Count);
                blocks.RemoveAt(blocks.Count - 1);
            }

            blocks.Add(block);
        }

        foreach (var block in blocks)
        {
            var start = block.Sum / block.Count;
            for (var k = block.First; k <= block.Last; k++)
            {
                x[row[k]] = start + offset[k];
            }
        }
    }

    private static GraphLayout Draw(List<int> ids, ProperGraph graph, List<int>[] rows, double[] centre, LayoutSpacing spacing)
    {
        var left = rows.SelectMany(r => r).Select(v => centre[v] - (graph.IsDummy(v) ? spacing.EdgeLaneWidth : spacing.BoxWidth) / 2).DefaultIfEmpty(0).Min();
        var right = rows.SelectMany(r => r).Select(v => centre[v] + (graph.IsDummy(v) ? spacing.EdgeLaneWidth : spacing.BoxWidth) / 2).DefaultIfEmpty(0).Max();
        double X(int v) => centre[v] - left + spacing.Margin;
        double Top(int rank) => spacing.Margin + (rank * (spacing.BoxHeight + spacing.VerticalGap));

        var boxes = new List<PlacedBox>(ids.Count);
        for (var v = 0; v < ids.Count; v++)
        {
            boxes.Add(new PlacedBox(ids[v], graph.Rank[v], X(v) - (spacing.BoxWidth / 2), Top(graph.Rank[v]), spacing.BoxWidth, spacing.BoxHeight));
        }

        var routed = new List<RoutedEdge>(graph.Edges.Count);
        foreach (var (from, to, lanes) in graph.Edges)
        {
            var points = new List<(double X, double Y)> { (X(from), Top(graph.Rank[from]) + spacing.BoxHeight) };
            foreach (var lane in lanes)
            {
                // Straight down through the row, so the edge never cuts a box's corner.
                points.Add((X(lane), Top(graph.Rank[lane])));
                points.Add((X(lane), Top(graph.Rank[lane]) + spacing.BoxHeight));
            }

            points.Add((X(to), Top(graph.Rank[to])));
            routed.Add(new RoutedEdge(ids[from], ids[to], points));
        }

        var height = graph.RankCount == 0 ? 0 : Top(graph.RankCount - 1) + spacing.BoxHeight + spacing.Margin;
        return new GraphLayout(boxes, routed, right - left + (2 * spacing.Margin), height);
    }

    /// <summary>
    /// The graph with every edge spanning several ranks replaced by a chain through one lane vertex
    /// per rank in between (vertices from <c>boxCount</c> on are lanes), so edges join adjacent ranks only.
    /// </summary>
    internal sealed class ProperGraph
    {
        public ProperGraph(int boxCount, int[] ranks, List<(int From, int To)> edges)
        {
            BoxCount = boxCount;
            Rank = [.. ranks];
            for (var v = 0; v < boxCount; v++)
            {
                Up.Add([]);
                Down.Add([]);
            }

            foreach (var (from, to) in edges)
            {
                var lanes = new List<int>();
                var previous = from;
                for (var r = Rank[from] + 1; r < Rank[to]; r++)
                {
                    var lane = Rank.Count;
                    Rank.Add(r);
                    Up.Add([previous]);
                    Down.Add([]);
                    Down[previous].Add(lane);
                    lanes.Add(lane);
                    previous = lane;
                }

                Down[previous].Add(to);
                Up[to].Add(previous);
                Edges.Add((from, to, lanes));
            }

            RankCount = Rank.Count == 0 ? 0 : Rank.Max() + 1;
        }

        public int BoxCount { get; }

        public List<int> Rank { get; }

        public List<List<int>> Up { get; } = [];

        public List<List<int>> Down { get; } = [];

        public List<(int From, int To, List<int> Lanes)> Edges { get; } = [];

        public int VertexCount => Rank.Count;

        public int RankCount { get; }

        public bool IsDummy(int v) => v >= BoxCount;
    }
}
