using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes.Surgery;

/// <summary>
/// Keeps a subset of a model's classes: every head that decodes classes loses the channels of the
/// others, in the weights of the conv or fully connected layer that produces them (the same
/// weight surgery as <see cref="PruneDeadChannels"/>, <see cref="ChannelSlicing"/>), and states the
/// new class count where it states one.
/// <para>Before: <c>Conv(W: anchors·(P + C) rows) → [yolo] classes=C</c> (P = 5 for [yolo], 8 + 1 for
/// [Gaussian_yolo], coords + 1 for [region]); SSD: <c>Conv(W: priors·C rows) → Permute → Flatten →
/// Concat → Reshape(…, C) → Softmax → Flatten → DetectionOutput num_classes=C</c>; a classifier:
/// <c>FullyConnected, Conv or MatMul (C outputs, [+ bias Add]) → [activation, global pooling, flatten,
/// reshape dropping 1-sized axes, softmax] → output</c>.</para>
/// <para>After: per anchor (per prior) the P box rows and the rows of the kept classes, in their
/// order (a MatMul's weight columns and its bias Add's entries likewise); the head's <c>classes</c>, the Reshape's class dimension and DetectionOutput's
/// <c>num_classes</c> are the kept count. SSD's background class (<c>background_label_id</c>) is kept
/// whether asked for or not (NM2041).</para>
/// <para>Preconditions: the producer's weights are constant and not shared, it has no groups, and
/// each value between it and the head is read by that path alone; an SSD head's Reshape names the
/// class count last, and without <c>share_location</c> its box convolutions (priors·C·4 rows, 4 per
/// class) reach DetectionOutput through Permute, Flatten and Concat only, and lose the other classes' rows too; the writer can
/// state the new counts. Every head decodes the same number of classes, and every kept index is one
/// of them (NM0361). A failed precondition at any head is "not applied" there and NM0362: every head is cut or none.</para>
/// <para>Formula: kept row <c>j</c> of the new producer is row <c>r(j)</c> of the old one, bit for
/// bit, so the producer's channel <c>j</c> equals the old channel <c>r(j)</c>; a softmax over the
/// classes divides by the sum over the kept classes only (NM2040), so values after it are not
/// compared.</para>
/// </summary>
public sealed class KeepClasses(IReadOnlyList<long> kept, SourceLocation where) : GraphPass
{
    public override string Name => "KeepClasses";

    /// <summary>The values whose kept channels verification compares with the original's.</summary>
    public List<ValueSelection> Selections { get; } = [];

    public override void Run(GraphEditor graph, PassReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        var heads = ClassHeads.Find(graph);
        if (heads.Count == 0)
        {
            throw DiagnosticCodes.NoClassHead.Exception(where,
                "the model has no class head: no [yolo], [Gaussian_yolo] or [region] layer, no DetectionOutput, and no model output computed by a fully connected, convolution or matrix product layer.");
        }

        var classCounts = heads.Select(h => h.Classes).Distinct().ToList();
        if (classCounts.Count > 1)
        {
            throw DiagnosticCodes.NoClassHead.Exception(where,
                $"the heads decode different numbers of classes ({string.Join(", ", heads.Select(h => $"'{h.Head.Name}': {h.Classes}"))}); a class subset needs one list of classes.");
        }

        var classes = classCounts[0];
        var outside = kept.Where(k => k >= classes).ToList();
        if (outside.Count > 0)
        {
            throw DiagnosticCodes.ClassOutOfRange.Exception(where,
                string.Create(CultureInfo.InvariantCulture, $"class {string.Join(", ", outside)} is not one of the model's {classes} classes (0 to {classes - 1})."));
        }

        // All heads or none: a detector whose heads decode different classes would be wrong.
        var refusals = heads.Select(h => (Head: h, Reason: h.Refusal ?? Unwritable(graph, h))).Where(r => r.Reason is not null).ToList();
        if (refusals.Count > 0)
        {
            foreach (var (head, reason) in refusals)
            {
                NotApplied(report, head.Head, reason!);
            }

            throw DiagnosticCodes.NoClassHead.Exception(where,
                $"{(refusals.Count == heads.Count ? "no" : string.Create(CultureInfo.InvariantCulture, $"{refusals.Count} of the {heads.Count}"))} class head(s) can be cut, and a class subset cuts every head or none: "
                + string.Join("; ", refusals.Select(r => $"'{r.Head.Head.Name}': {r.Reason}")));
        }

        foreach (var head in heads)
        {
            var keptClasses = kept.ToList();
            if (head.Background is { } background && !keptClasses.Contains(background))
            {
                keptClasses.Add(background);
                keptClasses.Sort();
                report.Warnings.Add(DiagnosticCodes.BackgroundClassKept.At(head.Head.Origin.Location,
                    string.Create(CultureInfo.InvariantCulture, $"'{head.Head.Name}': class {background} is the background (background_label_id), which the detector needs; it is kept, so the model has {keptClasses.Count} classes.")));
            }

            Apply(graph, head, keptClasses, report);
        }

        graph.ShapesChanged();
        graph.RemoveUnusedInitializers();
    }

    /// <summary>Per-class boxes (SSD without share_location): in each prior's block of C·4 rows, the 4 rows of each kept class.</summary>
    /// <remarks><paramref name="shapes"/>: the shapes before the cut (asking the editor again would infer a half-cut graph).</remarks>
    private void CutBoxes(GraphEditor graph, IReadOnlyDictionary<string, Shape> shapes, ClassHead head, Node producer, long blocks, List<long> keptClasses, PassReport report)
    {
        var rows = shapes[producer.Outputs[0]][1];
        var keptRows = new List<long>();
        for (long b = 0; b < blocks; b++)
        {
            foreach (var k in keptClasses)
            {
                for (long coordinate = 0; coordinate < 4; coordinate++)
                {
                    keptRows.Add((b * head.Classes * 4) + (k * 4) + coordinate);
                }
            }
        }

        var cut = new NodeCut();
        cut.Rows.UnionWith(Enumerable.Range(0, checked((int)rows)).Select(r => (long)r).Except(keptRows));
        Selections.Add(new ValueSelection(producer.Outputs[0], rows, shapes[producer.Outputs[0]].ElementsPerItem / rows, [.. keptRows]));
        ChannelSlicing.Cut(graph, producer, cut);
        Applied(report, producer, string.Create(CultureInfo.InvariantCulture,
            $"kept the boxes of {keptClasses.Count} of {head.Classes} classes ({string.Join(", ", keptClasses)}): {rows} -> {keptRows.Count} output channels"));
    }

    /// <summary>The entries <paramref name="kept"/> of the constant a bias Add adds, as a new initializer it reads.</summary>
    private static void KeepBiasEntries(GraphEditor graph, Node add, long[] kept)
    {
        var slot = add.Inputs.FindIndex(graph.Graph.Initializers.ContainsKey);
        var bias = graph.Graph.Initializers[add.Inputs[slot]];
        var values = bias.Data!.ToArray();
        var sliced = new Initializer(graph.UniqueValueName(add.Name + "/kept_bias"), bias.Shape.WithDim(bias.Shape.Rank - 1, kept.Length), new ArrayData([.. kept.Select(k => values[k])]));
        graph.AddInitializer(sliced);
        graph.SetInput(add, slot, sliced.Name);
    }

    private static string? Unwritable(GraphEditor graph, ClassHead head) =>
        head.Producers.Select(p => p.Node).Concat(head.BoxProducers.Select(p => p.Node)).Select(n => graph.CannotExpress(n, NodeEdit.ChannelsRemoved)).FirstOrDefault(r => r is not null)
        ?? (head.Bias is { } bias ? graph.CannotExpress(bias, NodeEdit.ChannelsRemoved) : null)
        ?? head.Restated.Select(n => graph.CannotExpress(n, NodeEdit.AttributesChanged)).FirstOrDefault(r => r is not null);

    private void Apply(GraphEditor graph, ClassHead head, List<long> keptClasses, PassReport report)
    {
        var shapes = graph.Shapes;
        foreach (var (producer, blocks, prefix) in head.Producers)
        {
            var rows = shapes[producer.Outputs[0]][1];
            var block = rows / blocks;
            var keptRows = new List<long>();
            for (long b = 0; b < blocks; b++)
            {
                for (long p = 0; p < prefix; p++)
                {
                    keptRows.Add((b * block) + p);
                }

                keptRows.AddRange(keptClasses.Select(k => (b * block) + prefix + k));
            }

            var cut = new NodeCut();
            cut.Rows.UnionWith(Enumerable.Range(0, checked((int)rows)).Select(r => (long)r).Except(keptRows));
            var inner = shapes[producer.Outputs[0]].ElementsPerItem / rows;
            Selections.Add(new ValueSelection(producer.Outputs[0], rows, inner, [.. keptRows]));
            if (head.SameLayoutAsProducer)
            {
                Selections.Add(new ValueSelection(head.Head.Outputs[0], rows, inner, [.. keptRows]));
            }

            ChannelSlicing.Cut(graph, producer, cut);
            if (head.Bias is { } add)
            {
                KeepBiasEntries(graph, add, [.. keptRows]);
            }
            Applied(report, producer, string.Create(CultureInfo.InvariantCulture,
                $"kept {keptClasses.Count} of {head.Classes} classes ({string.Join(", ", keptClasses)}): {rows} -> {keptRows.Count} output channels"));
        }

        foreach (var (producer, blocks) in head.BoxProducers)
        {
            CutBoxes(graph, shapes, head, producer, blocks, keptClasses, report);
        }

        foreach (var value in head.BoxValues)
        {
            Selections.Add(new ValueSelection(value, head.Classes, 4, [.. keptClasses]));
        }

        foreach (var value in head.ClassLastValues)
        {
            Selections.Add(new ValueSelection(value, head.Classes, 1, [.. keptClasses]));
        }

        foreach (var value in head.ChannelValues)
        {
            Selections.Add(new ValueSelection(value, head.Classes, shapes[value].ElementsPerItem / head.Classes, [.. keptClasses]));
        }

        head.Restate(keptClasses.Count);
        if (head.Softmax is { } softmax)
        {
            report.Warnings.Add(DiagnosticCodes.ClassesRenormalised.At(softmax.Origin.Location,
                $"'{softmax.Name}' normalises over the {keptClasses.Count} kept classes: each kept class's probability is its original one divided by the kept classes' total. The scores before it are the original's."));
        }
    }
}

/// <summary>
/// Value <see cref="Value"/> seen per item as (outer, <see cref="Count"/>, <see cref="Inner"/>): after an edit its
/// index <c>j</c> along the middle axis holds what index <c>Kept[j]</c> held before.
/// </summary>
public sealed record ValueSelection(string Value, long Count, long Inner, long[] Kept);
