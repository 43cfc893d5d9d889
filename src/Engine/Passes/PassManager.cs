using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes;

/// <summary>
/// Runs the inference passes in a fixed order. Backward folds run before the forward fold, so a
/// conv that already absorbed its own BN has a bias to take the forward shift.
/// </summary>
public static class PassManager
{
    /// <summary>The registry: every pass, in the order it runs.</summary>
    public static IReadOnlyList<GraphPass> Default { get; } =
    [
        new RemoveDropout(),
        new FoldBatchNorm(),
        new FoldScale(),
        new FoldChannelMulAdd(),
        new FoldBatchNormIntoFollowingConv(),
    ];

    /// <summary>Rounds are bounded: each round that applies removes at least one node, so this is never reached in practice.</summary>
    private const int MaxRounds = 8;

    /// <remarks>
    /// One fold can make another possible: in Conv → Mul → BatchNormalization the BN has no conv
    /// before it until the Mul has folded. The passes therefore run in rounds until a round applies
    /// nothing. Everything applied (and warned) in any round is reported, and "not applied" only
    /// from the last round, for the nodes that are still there.
    /// </remarks>
    /// <param name="graph">The graph, rewritten in place.</param>
    /// <param name="passes">The passes to run (<see cref="Default"/> when null).</param>
    /// <param name="writer">What the writer of the result can express (<see cref="WriterContract.Any"/> when null): an edit it cannot is "not applied".</param>
    public static PassReport Run(Graph graph, IEnumerable<GraphPass>? passes = null, WriterContract? writer = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var list = (passes ?? Default).ToList();
        var editor = new GraphEditor(graph, writer);
        var report = new PassReport();
        List<PassEvent> lastRefusals = [];
        for (var round = 0; round < MaxRounds; round++)
        {
            var roundReport = new PassReport();
            foreach (var pass in list)
            {
                pass.Run(editor, roundReport);
                editor.EndPass();
            }

            report.Events.AddRange(roundReport.Events.Where(e => e.Outcome != PassOutcome.NotApplied));
            report.Folds.AddRange(roundReport.Folds);
            report.Warnings.AddRange(roundReport.Warnings);
            report.Pruning.AddRange(roundReport.Pruning);
            report.LowRank.AddRange(roundReport.LowRank);
            lastRefusals = [.. roundReport.NotApplied];
            if (!roundReport.Applied.Any())
            {
                break;
            }
        }

        // A BN that the forward fold took is no longer "not applied" by the backward one.
        var remaining = new HashSet<string>(graph.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        report.Events.AddRange(lastRefusals.Where(e => remaining.Contains(e.Node)));
        return report;
    }
}
