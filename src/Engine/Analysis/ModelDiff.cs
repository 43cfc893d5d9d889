using System.Globalization;

namespace NeuralBuild.Engine.Analysis;

/// <summary>What happened to one layer between two models.</summary>
public enum LayerChange
{
    /// <summary>Matched, and every figure, the ops and the output shape are the same.</summary>
    Unchanged,

    /// <summary>Matched, and something differs.</summary>
    Changed,

    /// <summary>Only in the second model.</summary>
    Added,

    /// <summary>Only in the first model.</summary>
    Removed,
}

/// <summary>How a layer of the first model was paired with one of the second.</summary>
public enum LayerMatch
{
    /// <summary>Not paired: the layer was added or removed.</summary>
    None,

    /// <summary>Same name and kind in both models.</summary>
    Name,

    /// <summary>Same kind at the same place in the order of the layers left after matching by name.</summary>
    Position,
}

/// <summary>One row of a diff: a layer of the first model (<see cref="Before"/>), of the second (<see cref="After"/>), or both.</summary>
public sealed record LayerDiff(LayerReport? Before, LayerReport? After, LayerMatch MatchedBy)
{
    private static readonly CostFigures s_none = new();

    /// <summary>The second model's figures minus the first's; an added layer counts from zero, a removed one down to zero.</summary>
    public CostFigures Delta { get; } = (After?.Cost ?? s_none) - (Before?.Cost ?? s_none);

    /// <summary>The layer's kind (the second model's when both have it: they are equal).</summary>
    public string Kind => (After ?? Before)!.Kind;

    /// <summary>Ops the first model's layer runs and the second's does not (a folded BatchNormalization inside a Darknet conv).</summary>
    public IReadOnlyList<string> OpsRemoved => Minus(Before?.Ops, After?.Ops);

    /// <summary>Ops the second model's layer runs and the first's does not.</summary>
    public IReadOnlyList<string> OpsAdded => Minus(After?.Ops, Before?.Ops);

    public LayerChange Change =>
        Before is null ? LayerChange.Added
        : After is null ? LayerChange.Removed
        : Delta == s_none && Before.OutputShape == After.OutputShape && Before.Ops.SequenceEqual(After.Ops, StringComparer.Ordinal) ? LayerChange.Unchanged
        : LayerChange.Changed;

    /// <summary><c>#12 → #10</c>, <c>#12 → -</c>: where the layer is in each model.</summary>
    public string Indices => $"{Index(Before)} -> {Index(After)}";

    private static string Index(LayerReport? layer) => layer is null ? "-" : "#" + layer.Index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The multiset difference <paramref name="a"/> - <paramref name="b"/>, in <paramref name="a"/>'s order.</summary>
    private static List<string> Minus(IReadOnlyList<string>? a, IReadOnlyList<string>? b)
    {
        var left = (b ?? []).GroupBy(o => o, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var op in a ?? [])
        {
            if (left.TryGetValue(op, out var n) && n > 0)
            {
                left[op] = n - 1;
            }
            else
            {
                result.Add(op);
            }
        }

        return result;
    }
}

/// <summary>
/// Two models compared layer by layer (two versions of one model, or a model and its optimised
/// form): layers are paired by name and kind first, then the rest by kind in order (the longest
/// common subsequence of kinds, so an inserted or removed layer does not shift every pairing after
/// it), and each row carries the change of every figure the cost model computes. Format-neutral:
/// it compares two <see cref="ModelReport"/>s, whatever files they came from.
/// </summary>
public sealed record ModelDiff(ModelReport Before, ModelReport After, IReadOnlyList<LayerDiff> Layers)
{
    public const int SchemaVersion = 1;

    /// <summary>Beyond this many cells the kind alignment pairs layers greedily instead of by longest common subsequence (memory).</summary>
    private const long AlignmentCellLimit = 16_000_000;

    /// <summary>The second model's totals minus the first's.</summary>
    public CostFigures TotalsDelta => After.Totals - Before.Totals;

    public long PeakActivationDelta => After.PeakActivationBytes - Before.PeakActivationBytes;

    /// <summary>Whether any layer was paired: two unrelated models pair none.</summary>
    public bool AnyMatched => Layers.Any(l => l.MatchedBy != LayerMatch.None);

    public static ModelDiff Compare(ModelReport before, ModelReport after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var pairs = new Dictionary<LayerReport, (LayerReport Layer, LayerMatch By)>(ReferenceEqualityComparer.Instance);
        MatchByName(before.Layers, after.Layers, pairs);
        var paired = pairs.Values.Select(p => p.Layer).ToHashSet(ReferenceEqualityComparer.Instance);
        MatchByPosition([.. before.Layers.Where(l => !pairs.ContainsKey(l))], [.. after.Layers.Where(l => !paired.Contains(l))], pairs);
        return new ModelDiff(before, after, Rows(before.Layers, after.Layers, pairs));
    }

    /// <summary>
    /// A name that is only the layer's index (Darknet's layers are named by number) says nothing
    /// the position does not, and would pair the wrong layers once one is inserted.
    /// </summary>
    private static bool HasOwnName(LayerReport layer) =>
        layer.Name.Length > 0 && layer.Name != layer.Index.ToString(CultureInfo.InvariantCulture);

    private static void MatchByName(IReadOnlyList<LayerReport> before, IReadOnlyList<LayerReport> after, Dictionary<LayerReport, (LayerReport, LayerMatch)> pairs)
    {
        // Only names that are unique in both models pair: a repeated name cannot say which is which.
        static Dictionary<string, LayerReport> Unique(IEnumerable<LayerReport> layers) => layers
            .Where(HasOwnName)
            .GroupBy(l => l.Name, StringComparer.Ordinal)
            .Where(g => g.Count() == 1)
            .ToDictionary(g => g.Key, g => g.Single(), StringComparer.Ordinal);

        var afterByName = Unique(after);
        foreach (var (name, layer) in Unique(before))
        {
            if (afterByName.TryGetValue(name, out var other) && other.Kind == layer.Kind)
            {
                pairs[layer] = (other, LayerMatch.Name);
            }
        }
    }

    private static void MatchByPosition(List<LayerReport> before, List<LayerReport> after, Dictionary<LayerReport, (LayerReport, LayerMatch)> pairs)
    {
        if ((long)before.Count * after.Count > AlignmentCellLimit)
        {
            // Greedy: each layer pairs with the next unpaired layer of its kind.
            var next = 0;
            foreach (var layer in before)
            {
                var found = after.FindIndex(next, l => l.Kind == layer.Kind);
                if (found >= 0)
                {
                    pairs[layer] = (after[found], LayerMatch.Position);
                    next = found + 1;
                }
            }

            return;
        }

        // Longest common subsequence of kinds: length[i, j] for before[i..] and after[j..].
        var length = new int[before.Count + 1, after.Count + 1];
        for (var i = before.Count - 1; i >= 0; i--)
        {
            for (var j = after.Count - 1; j >= 0; j--)
            {
                length[i, j] = before[i].Kind == after[j].Kind ? length[i + 1, j + 1] + 1 : Math.Max(length[i + 1, j], length[i, j + 1]);
            }
        }

        for (int i = 0, j = 0; i < before.Count && j < after.Count;)
        {
            if (before[i].Kind == after[j].Kind && length[i, j] == length[i + 1, j + 1] + 1)
            {
                pairs[before[i]] = (after[j], LayerMatch.Position);
                i++;
                j++;
            }
            else if (length[i + 1, j] >= length[i, j + 1])
            {
                i++;
            }
            else
            {
                j++;
            }
        }
    }

    /// <summary>In the second model's order, each removed layer placed before the first row whose first-model layer, or whose next paired layer, follows it.</summary>
    private static List<LayerDiff> Rows(IReadOnlyList<LayerReport> before, IReadOnlyList<LayerReport> after, Dictionary<LayerReport, (LayerReport Layer, LayerMatch By)> pairs)
    {
        var partner = pairs.ToDictionary<KeyValuePair<LayerReport, (LayerReport Layer, LayerMatch By)>, LayerReport, (LayerReport Layer, LayerMatch By)>(p => p.Value.Layer, p => (p.Key, p.Value.By), ReferenceEqualityComparer.Instance);
        var position = new Dictionary<LayerReport, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < before.Count; i++)
        {
            position[before[i]] = i;
        }

        var rows = new List<LayerDiff>(Math.Max(before.Count, after.Count));
        var nextBefore = 0;
        void RemovedUpTo(int end)
        {
            for (; nextBefore < end; nextBefore++)
            {
                if (!pairs.ContainsKey(before[nextBefore]))
                {
                    rows.Add(new LayerDiff(before[nextBefore], null, LayerMatch.None));
                }
            }
        }

        // For each place in the second model, where the next paired layer sits in the first: a layer
        // added there follows the removals before it (a replaced layer reads "removed, added").
        var nextAnchor = new int[after.Count + 1];
        nextAnchor[after.Count] = before.Count;
        for (var k = after.Count - 1; k >= 0; k--)
        {
            nextAnchor[k] = partner.TryGetValue(after[k], out var anchor) ? position[anchor.Layer] : nextAnchor[k + 1];
        }

        for (var k = 0; k < after.Count; k++)
        {
            var layer = after[k];
            if (partner.TryGetValue(layer, out var match))
            {
                var at = position[match.Layer];
                RemovedUpTo(at);
                nextBefore = Math.Max(nextBefore, at + 1);
                rows.Add(new LayerDiff(match.Layer, layer, match.By));
            }
            else
            {
                RemovedUpTo(nextAnchor[k]);
                rows.Add(new LayerDiff(null, layer, LayerMatch.None));
            }
        }

        RemovedUpTo(before.Count);
        return rows;
    }
}
