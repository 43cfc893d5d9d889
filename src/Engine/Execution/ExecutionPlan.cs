using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Execution;

/// <summary>
/// What one run does: the nodes the requested values depend on, in graph order, and when each value
/// dies (<see cref="Liveness"/>). With <see cref="ExecutionOptions.FuseEpilogues"/> a convolution
/// and the BatchNorm / activation after it are one step (<see cref="EpilogueFusion"/>); the plan is
/// the executor's own, the graph is never changed.
/// </summary>
internal sealed class ExecutionPlan
{
    private ExecutionPlan(IReadOnlyList<PlanStep> steps, IReadOnlySet<string> requested)
    {
        Steps = steps;
        Liveness = new Liveness(steps.Select(s => s.Reads), requested);
    }

    public IReadOnlyList<PlanStep> Steps { get; }

    public Liveness Liveness { get; }

    /// <summary>
    /// The plan that computes <paramref name="requested"/> from <paramref name="graph"/>, with
    /// epilogues fused when <paramref name="fuseEpilogues"/> (<paramref name="isWeight"/>: the
    /// values the weight store holds).
    /// </summary>
    public static ExecutionPlan Create(Graph graph, IReadOnlySet<string> requested, bool fuseEpilogues, Func<string, bool> isWeight)
    {
        var nodes = NeededNodes(graph, requested);
        var steps = nodes.Select(n => new PlanStep(n, n.Outputs, Chain: null)).ToList();
        return new ExecutionPlan(fuseEpilogues ? EpilogueFusion.Apply(steps, requested, isWeight) : steps, requested);
    }

    /// <summary>The nodes <paramref name="requested"/> depends on, in graph order.</summary>
    private static List<Node> NeededNodes(Graph graph, IReadOnlySet<string> requested)
    {
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var output in graph.Nodes[i].Outputs)
            {
                producers[output] = i;
            }
        }

        var needed = new bool[graph.Nodes.Count];
        var pending = new Stack<string>(requested);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            var value = pending.Pop();
            if (!seen.Add(value) || !producers.TryGetValue(value, out var producer) || needed[producer])
            {
                continue;
            }

            needed[producer] = true;
            foreach (var input in graph.Nodes[producer].Inputs)
            {
                if (input.Length > 0)
                {
                    pending.Push(input);
                }
            }
        }

        return [.. graph.Nodes.Where((_, i) => needed[i])];
    }
}

/// <summary>
/// One step of a plan: <paramref name="Node"/>'s kernel writing <paramref name="Outputs"/>; with a
/// <paramref name="Chain"/>, a convolution that applies the chain's BatchNorm / activation as its
/// epilogue and writes the chain's last value.
/// </summary>
internal sealed record PlanStep(Node Node, IReadOnlyList<string> Outputs, FusedChain? Chain)
{
    /// <summary>Every value the step reads: the node's inputs and, fused, the BatchNorm's statistics.</summary>
    public IEnumerable<string> Reads => Chain?.BatchNorm is { } bn ? Node.Inputs.Concat(bn.Inputs.Skip(1)) : Node.Inputs;

    /// <summary>The nodes the step computes: <see cref="Node"/>, then a fused chain's BatchNorm and activation.</summary>
    public IReadOnlyList<Node> Nodes => Chain is null ? [Node] : [Node, .. new[] { Chain.BatchNorm, Chain.Activation }.OfType<Node>()];
}
