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

    public static PassReport Run(Graph graph, IEnumerable<GraphPass>? passes = null)
    {
        var report = new PassReport();
        foreach (var pass in passes ?? Default)
        {
            pass.Run(graph, report);
        }

        // A BN that the forward fold took is no longer "not applied" by the backward one.
        var remaining = new HashSet<string>(graph.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        report.Events.RemoveAll(e => e.Outcome == PassOutcome.NotApplied && !remaining.Contains(e.Node));
        return report;
    }
}
