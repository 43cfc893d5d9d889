using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Ir;

namespace NeuralBuild.Engine.Passes.Surgery;

/// <summary>
/// Cuts a model at chosen values: they become its outputs and every node they do not need leaves.
/// <para>Before: <c>X → … → a → … → b → DetectionOutput → out</c>, outputs <c>[out]</c>.</para>
/// <para>After (<c>--outputs a,b</c>): <c>X → … → a → … → b</c>, outputs <c>[a, b]</c>. With
/// <c>--remove-after L</c> every node after layer L's last node leaves, and the outputs are the
/// values no remaining node reads (as Caffe and Darknet name a net's outputs).</para>
/// <para>Preconditions: every name is a value, a node or a source layer of the graph (NM0364); the
/// writer can drop each node that leaves (else NM0366, with its reason). Values are computed as
/// before, so the kept outputs equal the original's values of the same names.</para>
/// </summary>
public sealed class ChooseOutputs(IReadOnlyList<string>? outputs, string? removeAfter, SourceLocation where) : GraphPass
{
    public override string Name => "ChooseOutputs";

    public override void Run(GraphEditor graph, PassReport report)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(report);
        var nodes = graph.Graph.Nodes;
        List<string> chosen;
        if (removeAfter is not null)
        {
            var last = LastNodeOf(graph.Graph, removeAfter) ?? throw Unknown(graph.Graph, removeAfter, where);
            var keptNodes = nodes.Take(nodes.IndexOf(last) + 1).ToList();
            var read = keptNodes.SelectMany(n => n.Inputs).ToHashSet(StringComparer.Ordinal);
            chosen = [.. keptNodes.SelectMany(n => n.Outputs).Where(v => !read.Contains(v))];
        }
        else
        {
            chosen = [.. (outputs ?? []).Select(name => Resolve(graph.Graph, name) ?? throw Unknown(graph.Graph, name, where)).Distinct(StringComparer.Ordinal)];
        }

        var needed = new HashSet<string>(chosen, StringComparer.Ordinal);
        var removed = new List<Node>();
        for (var i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (node.Outputs.Any(needed.Contains))
            {
                needed.UnionWith(node.Inputs.Where(v => v.Length > 0));
            }
            else
            {
                removed.Add(node);
            }
        }

        if (graph.CannotExpressRemoving(removed) is var (unwritable, reason))
        {
            throw DiagnosticCodes.InvalidEdit.Exception(unwritable.Origin.Location, $"cutting the model would remove '{unwritable.Name}', but {reason}.");
        }

        graph.Graph.Outputs.Clear();
        graph.Graph.Outputs.AddRange(chosen);
        graph.Graph.OutputsChosen = true;
        foreach (var node in removed)
        {
            graph.Remove(node);
            Applied(report, node, $"removed: the outputs {string.Join(", ", chosen)} do not need it");
        }

        graph.RemoveUnusedInitializers();
    }

    /// <summary>A value's name, a node's name (its first output) or a source layer's name or index (its last node's output).</summary>
    internal static string? Resolve(Graph graph, string name)
    {
        if (graph.Inputs.ContainsKey(name) || graph.Nodes.Any(n => n.Outputs.Contains(name)))
        {
            return name;
        }

        return LastNodeOf(graph, name)?.Outputs[0];
    }

    private static Node? LastNodeOf(Graph graph, string name) =>
        graph.Nodes.LastOrDefault(n => n.Name == name || n.Outputs.Contains(name))
        ?? graph.Nodes.LastOrDefault(n => n.Origin.Name == name);

    internal static NeuralException Unknown(Graph graph, string name, SourceLocation where)
    {
        var layers = graph.Nodes.Select(n => n.Origin.Name).Distinct(StringComparer.Ordinal).ToList();
        var sample = string.Join(", ", layers.TakeLast(8));
        return DiagnosticCodes.UnknownEditTarget.Exception(where,
            $"'{name}' is no layer, node or value of the model; its last layers are {sample}.");
    }
}
